"""tools/analysis_tools/benchmark_train_speed.py on a tiny model: one row per mode."""
import json
import subprocess
import sys

import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool

pytestmark = pytest.mark.slow


def test_train_speed_prints_images_per_second_and_tflops(tiny_synthetic_root):
    """At its default modes: on a machine without CUDA, fp32 only (mmengine's AMP
    wrapper asserts a GPU; the old default crashed there)."""
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark_train_speed.py',
                       DEMO_CONFIG, '--iters', '2', '--warmup', '1', '--rounds', '1',
                       '--device', 'cpu', '--cfg-options', 'model.backbone.base_channels=4',
                       f'train_dataloader.dataset.data_root={tiny_synthetic_root}',
                       'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0'])
    rows = [line.split('|')[1:-1] for line in result.stdout.splitlines()
            if line.startswith('| serankdet')]
    assert len(rows) == 1, result.stdout
    config, batch, path, images_per_second, _, ratio, tflops, share = (c.strip()
                                                                      for c in rows[0])
    assert (batch, path, ratio, share) == ('2', 'fp32', '1.00x', '-')  # CPU: no known peak
    assert float(images_per_second) > 0 and float(tflops) > 0
    assert '--device cpu: timing fp32 only (AMP needs a CUDA device)' in result.stdout


def test_amp_without_cuda_is_refused_in_one_line():
    result = subprocess.run([sys.executable, 'tools/analysis_tools/benchmark_train_speed.py',
                             str(DEMO_CONFIG), '--device', 'cpu', '--modes', 'fp32', 'amp'],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert ('--modes amp needs a CUDA device (mmengine\'s AmpOptimWrapper trains on a GPU '
            'only); --device is cpu') in result.stderr
    assert 'Traceback' not in result.stderr


def test_profile_writes_a_trace_and_prints_the_top_operators(tiny_synthetic_root, tmp_path):
    profile_dir = tmp_path / 'profile'
    result = run_tool([sys.executable, 'tools/analysis_tools/benchmark_train_speed.py',
                       DEMO_CONFIG, '--iters', '1', '--warmup', '0', '--rounds', '1',
                       '--modes', 'fp32', '--profile', profile_dir,
                       '--cfg-options', 'model.backbone.base_channels=4',
                       f'train_dataloader.dataset.data_root={tiny_synthetic_root}',
                       'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0'])
    (trace, ) = profile_dir.iterdir()
    assert trace.name == f'{DEMO_CONFIG.stem}_fp32.json'
    events = json.loads(trace.read_text())['traceEvents']
    assert any(event.get('name') == 'aten::convolution_backward' for event in events)
    assert f'fp32: one step, trace {trace}' in result.stdout
    assert 'Self CPU' in result.stdout and 'aten::' in result.stdout


def test_profile_refuses_a_file_where_the_folder_goes(tmp_path):
    not_a_folder = tmp_path / 'profile'
    not_a_folder.write_text('kept')
    result = subprocess.run([sys.executable, 'tools/analysis_tools/benchmark_train_speed.py',
                             str(DEMO_CONFIG), '--profile', str(not_a_folder)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and f'--profile {not_a_folder} is not a folder' in result.stderr
    assert not_a_folder.read_text() == 'kept'
