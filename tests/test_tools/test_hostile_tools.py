"""The tools as a hostile user runs them (issue 21): bad arguments, crafted or
swapped files, full disks, read-only folders, Ctrl-C, earlier results.

Every failure must be one line ``error: ...`` on stderr naming the file or
argument, exit 1 (130 for Ctrl-C), no traceback, and nothing written before
may be lost or left half written.
"""
import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Optional, Sequence

import cv2
import numpy as np
import pytest
import torch

from mmseg_serank.deploy.export import build_segmentor

from .conftest import DEMO_CONFIG, REPO_ROOT, TINY_WIDTH, TOOL_SCRIPTS, run_tool, tiny_model_options
from .test_checkpoint_safety import crafted_checkpoint

pytestmark = pytest.mark.slow

BASELINE_CONFIG = 'configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py'
BENCHMARK = 'tools/analysis_tools/benchmark_backends.py'

ANALYZE_LOGS = [sys.executable, TOOL_SCRIPTS['analyze_logs']]
GET_FLOPS = [sys.executable, TOOL_SCRIPTS['get_flops']]
PRINT_CONFIG = [sys.executable, TOOL_SCRIPTS['print_config']]


def run(args: Sequence, preexec_fn: Optional[Callable] = None,
        timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1')
    return subprocess.run([str(a) for a in args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles, code: int = 1) -> str:
    """The command failed with ``code`` and its last stderr line is ``error: ...``
    holding every needle; no traceback. Returns that line."""
    report = f'stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-4000:]}'
    assert result.returncode == code, report
    assert 'Traceback' not in result.stderr, report
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith('error: '), report
    for needle in needles:
        assert str(needle) in lines[-1], report
    return lines[-1]


def file_size_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn under which writes beyond ``limit`` bytes fail (EFBIG), as on a
    full disk."""
    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_file_size


@contextmanager
def read_only_folder(path: Path):
    """``path`` as a folder nobody can create files in (root included: chattr +i)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:
        if subprocess.run(['chattr', '+i', str(path)], capture_output=True).returncode:
            path.chmod(0o755)
            pytest.skip('cannot make a folder read-only for root here (no chattr +i)')
        immutable = True
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(['chattr', '-i', str(path)], check=True)
        path.chmod(0o755)


def interrupt(args: Sequence, workdir: Path, ready: Callable[[], bool],
              timeout: float = 240) -> subprocess.CompletedProcess:
    """Start ``args``, send SIGINT (Ctrl-C) once ``ready()``, return the result."""
    out, err = workdir / 'interrupt.out', workdir / 'interrupt.err'
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1', PYTHONDONTWRITEBYTECODE='1')
    with open(out, 'w') as stdout, open(err, 'w') as stderr:
        process = subprocess.Popen(
            [str(a) for a in args], cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + timeout
        while process.poll() is None and not ready() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, 'the command ended before it could be interrupted'
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=120)
    return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())


def write_frames(folder: Path, count: int, size: int = 64, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        image = rng.integers(0, 60, (size, size), dtype=np.uint8)
        cv2.circle(image, (int(rng.integers(8, size - 8)), int(rng.integers(8, size - 8))),
                   2, 250, -1)
        cv2.imwrite(str(folder / f'frame_{index:03d}.png'), image)


@pytest.fixture(scope='module')
def tiny_files(tmp_path_factory):
    """(width-4 checkpoint, its .onnx by the real export tool, a crafted pickle, its
    marker, a width-8 checkpoint)."""
    folder = tmp_path_factory.mktemp('hostile')
    torch.manual_seed(0)
    model = build_segmentor(str(DEMO_CONFIG), {'model.backbone.base_channels': TINY_WIDTH})
    checkpoint = folder / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    wide = folder / 'wide.pth'
    torch.save({'state_dict': build_segmentor(
        str(DEMO_CONFIG), {'model.backbone.base_channels': 8}).state_dict(), 'meta': {}}, wide)
    onnx_file = folder / 'tiny.onnx'
    run_tool([sys.executable, 'tools/deployment/export_onnx.py', DEMO_CONFIG, checkpoint, onnx_file,
              '--cfg-options', *tiny_model_options()])
    marker = folder / 'code_ran'
    crafted = crafted_checkpoint(folder / 'crafted.pth', marker, model.state_dict())
    return dict(checkpoint=checkpoint, onnx=onnx_file, crafted=crafted, marker=marker,
                wide=wide)


def deployed_options(data_root: Path):
    return ['--cfg-options', *tiny_model_options(),
            f'test_dataloader.dataset.data_root={data_root}',
            'test_dataloader.num_workers=0']


# 1. Bad arguments: one line, not a traceback.

@pytest.mark.parametrize('option', ['--sizes', '--widths', '--repeats', '--threads'])
def test_benchmark_backends_refuses_non_positive_numbers(option):
    args = {'--sizes': ['32'], '--widths': ['4'], '--repeats': ['1'], '--threads': ['1']}
    args[option] = ['0']
    result = run([sys.executable, BENCHMARK, *(x for key, values in args.items()
                                               for x in (key, *values))])
    assert_one_line_error(result, option, '>= 1')


def test_benchmark_backends_refuses_a_baseline_config_and_another_width(tiny_files):
    result = run([sys.executable, BENCHMARK, '--config', BASELINE_CONFIG, '--widths', '4',
                  '--sizes', '32', '--repeats', '1'])
    assert_one_line_error(result, BASELINE_CONFIG, 'FCNHead')
    result = run([sys.executable, BENCHMARK, '--checkpoint', tiny_files['wide'],
                  '--config', DEMO_CONFIG, '--widths', '4', '--sizes', '32', '--repeats', '1'])
    assert_one_line_error(result, tiny_files['wide'], 'does not fit')


def test_analysis_tools_refuse_bad_arguments_in_one_line(tmp_path):
    assert_one_line_error(run([*GET_FLOPS, DEMO_CONFIG, '--shape', '0', '64']),
                          '--shape', '>= 1')
    assert_one_line_error(run([*GET_FLOPS, tmp_path / 'missing.py']),
                          tmp_path / 'missing.py', 'does not exist')
    assert_one_line_error(run([*PRINT_CONFIG, tmp_path / 'missing.py']),
                          tmp_path / 'missing.py')
    target = tmp_path / 'no_folder' / 'dump.py'
    assert_one_line_error(run([*PRINT_CONFIG, DEMO_CONFIG, '--dump', target]),
                          target)
    with read_only_folder(tmp_path / 'read_only') as folder:
        result = run([*PRINT_CONFIG, DEMO_CONFIG, '--dump', folder / 'dump.py'])
        assert_one_line_error(result, folder / 'dump.py')
        assert list(folder.iterdir()) == []


def test_analyze_logs_names_a_file_that_is_not_a_log(tmp_path):
    listing = tmp_path / 'list.json'
    listing.write_text('[1, 2]\n')
    binary = tmp_path / 'binary.json'
    binary.write_bytes(b'\x80\x81\x00\xff' * 20)
    text = tmp_path / 'text.json'
    text.write_text('not json\n')
    for log in (listing, binary, text):
        result = run([*ANALYZE_LOGS, log,
                      '--out', tmp_path / 'plot.png'])
        assert_one_line_error(result, log)
    assert not (tmp_path / 'plot.png').exists()


def test_ctrl_c_in_export_onnx_leaves_nothing(tiny_files, tmp_path):
    out_dir = tmp_path / 'export'
    out_dir.mkdir()
    result = interrupt([sys.executable, 'tools/deployment/export_onnx.py', DEMO_CONFIG,
                        tiny_files['checkpoint'], out_dir / 'model.onnx', '--cfg-options',
                        *tiny_model_options()], tmp_path,
                       ready=lambda: any(out_dir.glob('.model.onnx.*')))
    assert_one_line_error(result, 'interrupted', code=130)
    assert list(out_dir.iterdir()) == []


def test_ctrl_c_in_test_deployed_leaves_no_scores(tiny_files, tiny_synthetic_root, tmp_path):
    out = tmp_path / 'scores.json'
    start = time.monotonic()
    result = interrupt([sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG,
                        tiny_files['onnx'], '--out', out,
                        *deployed_options(tiny_synthetic_root)], tmp_path,
                       # During its imports (over 2 s): an unloaded machine scores the 4
                       # tiny images within 3 s, so a later signal could come too late.
                       ready=lambda: time.monotonic() > start + 1)
    assert_one_line_error(result, 'interrupted', code=130)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['interrupt.err', 'interrupt.out']


def test_ctrl_c_in_infer_keeps_the_finished_images(tiny_files, tmp_path):
    write_frames(tmp_path / 'in', 150, size=128)
    out_dir = tmp_path / 'out'
    result = interrupt([sys.executable, 'tools/infer.py', DEMO_CONFIG, tiny_files['checkpoint'],
                        tmp_path / 'in', '--out', out_dir, '--cfg-options',
                        *tiny_model_options()], tmp_path,
                       ready=lambda: len(list(out_dir.glob('*_overlay.png'))) >= 3)
    line = assert_one_line_error(result, 'interrupted after', 'of 150 images', code=130)
    done = int(line.split('interrupted after ')[1].split()[0])
    assert 3 <= done < 150
    summary = json.loads((out_dir / 'targets.json').read_text())
    assert summary['num_images'] == done
    names = {image['image'] for image in summary['images']}
    with open(out_dir / 'targets.csv', newline='') as handle:
        assert {row['image'] for row in csv.DictReader(handle)} <= names
    written = sorted(p.name for p in out_dir.iterdir() if p.suffix == '.png')
    assert written == sorted(f'{name}_{kind}.png' for name in names
                             for kind in ('prob', 'mask', 'overlay'))
    for path in out_dir.glob('*.png'):
        assert cv2.imread(str(path)) is not None, path
    assert not [p for p in out_dir.iterdir() if p.name.endswith('.tmp')]


# 2. A crafted checkpoint: refused in one line by every tool.

@pytest.mark.parametrize('tool', ['export_onnx', 'benchmark_backends'])
def test_a_crafted_checkpoint_is_refused_in_one_line(tool, tiny_files, tmp_path):
    command = {
        'export_onnx': ['tools/deployment/export_onnx.py', DEMO_CONFIG, tiny_files['crafted'],
                        tmp_path / 'out.onnx', '--cfg-options', *tiny_model_options()],
        'benchmark_backends': [BENCHMARK, '--config', DEMO_CONFIG, '--checkpoint',
                               tiny_files['crafted'], '--widths', '4', '--sizes', '32',
                               '--repeats', '1'],
    }[tool]
    result = run([sys.executable, *command])
    assert_one_line_error(result, 'Refusing to load checkpoint', tiny_files['crafted'])
    assert not tiny_files['marker'].exists()
    assert not (tmp_path / 'out.onnx').exists()


# 3. Backend and file swapped.

def test_a_checkpoint_given_to_an_exported_model_backend_is_named(tiny_files,
                                                                  tiny_synthetic_root,
                                                                  tmp_path):
    checkpoint = tiny_files['checkpoint']
    for backend in ('onnxruntime', 'openvino'):
        result = run([sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG, checkpoint,
                      '--backend', backend, *deployed_options(tiny_synthetic_root)])
        assert_one_line_error(result, checkpoint, 'PyTorch checkpoint', '.onnx')
    result = run([sys.executable, 'tools/infer.py', DEMO_CONFIG, checkpoint,
                  tiny_synthetic_root / 'images', '--out', tmp_path / 'out', '--backend',
                  'onnxruntime', '--cfg-options', *tiny_model_options()])
    assert_one_line_error(result, checkpoint, 'PyTorch checkpoint', '.onnx')
    result = run([sys.executable, 'tools/infer.py', DEMO_CONFIG, tiny_files['onnx'],
                  tiny_synthetic_root / 'images', '--out', tmp_path / 'out', '--cfg-options',
                  *tiny_model_options()])
    assert_one_line_error(result, tiny_files['onnx'], '--backend onnxruntime')
    assert not (tmp_path / 'out').exists()


def test_a_corrupt_onnx_on_openvino_is_one_line(tiny_files, tiny_synthetic_root, tmp_path):
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(tiny_files['onnx'].read_bytes()[:5000])
    result = run([sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG, corrupt,
                  '--backend', 'openvino', *deployed_options(tiny_synthetic_root)])
    assert_one_line_error(result, corrupt, 'OpenVINO', '.onnx')


# 4. Full disk.

# Above the temporary copies mmengine writes of each config file (the largest
# base of the demo config has 2.5 kB), below the outputs written here.
FULL_DISK_LIMIT = 3200


def test_test_deployed_on_a_full_disk_leaves_no_empty_scores(tiny_files, tiny_synthetic_root,
                                                             tmp_path):
    deep = tmp_path.joinpath(*['d' * 230] * 15)  # the model's path makes the record large
    deep.mkdir(parents=True)
    (deep / 'model.onnx').symlink_to(tiny_files['onnx'])
    out = tmp_path / 'scores.json'
    command = [sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG,
               deep / 'model.onnx', '--out', out, *deployed_options(tiny_synthetic_root)]
    result = run(command, preexec_fn=file_size_limit(FULL_DISK_LIMIT))
    assert_one_line_error(result, out)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ['d' * 230]
    result = run(command)  # a rerun is not blocked
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'IoU' in json.loads(out.read_text())['metrics'].__repr__()


def test_infer_on_a_full_disk_leaves_no_empty_pictures(tiny_files, tmp_path):
    write_frames(tmp_path / 'in', 2, size=256)  # an overlay of 256 x 256 noise: > 3.2 kB
    out_dir = tmp_path / 'out'
    result = run([sys.executable, 'tools/infer.py', DEMO_CONFIG, tiny_files['checkpoint'],
                  tmp_path / 'in', '--out', out_dir, '--cfg-options', *tiny_model_options()],
                 preexec_fn=file_size_limit(FULL_DISK_LIMIT))
    assert_one_line_error(result, 'cannot write', out_dir / 'frame_000_')
    for path in out_dir.rglob('*'):
        assert path.stat().st_size > 0 and cv2.imread(str(path)) is not None, path


# 5. test_deployed's --out folder.

def test_test_deployed_checks_the_out_folder_before_scoring(tiny_files, tiny_synthetic_root,
                                                            tmp_path):
    command = [sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG, tiny_files['onnx'],
               *deployed_options(tiny_synthetic_root), '--out']
    with read_only_folder(tmp_path / 'read_only') as folder:
        result = run([*command, folder / 'scores.json'])
        assert_one_line_error(result, folder, 'not writable')
        assert 'IoU' not in result.stdout
    (tmp_path / 'file').write_text('a file')
    result = run([*command, tmp_path / 'file' / 'scores.json'])
    assert_one_line_error(result, tmp_path / 'file', 'is not a folder')
    assert 'IoU' not in result.stdout


# 6. infer.py into a folder holding an earlier run.

def test_infer_refuses_to_mix_two_runs_unless_overwrite(tiny_files, tmp_path):
    write_frames(tmp_path / 'first', 2, seed=1)
    (tmp_path / 'second').mkdir()
    write_frames(tmp_path / 'second_src', 1, seed=2)
    (tmp_path / 'second_src' / 'frame_000.png').rename(tmp_path / 'second' / 'other.png')
    out_dir = tmp_path / 'out'
    base = [sys.executable, 'tools/infer.py', DEMO_CONFIG, tiny_files['checkpoint']]
    options = ['--out', out_dir, '--cfg-options', *tiny_model_options()]
    run_tool([*base, tmp_path / 'first', *options])
    (out_dir / 'notes.txt').write_text('mine')
    before = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    result = run([*base, tmp_path / 'second', *options])
    assert_one_line_error(result, out_dir, '--overwrite')
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == before
    run_tool([*base, tmp_path / 'second', *options, '--overwrite'])
    assert sorted(p.name for p in out_dir.iterdir()) == [
        'notes.txt', 'other_mask.png', 'other_overlay.png', 'other_prob.png', 'targets.csv',
        'targets.json']
    assert json.loads((out_dir / 'targets.json').read_text())['num_images'] == 1


# 8. Unreadable images name their file.

def test_unreadable_images_are_named_not_shown_as_an_object(tiny_files, tmp_path):
    write_frames(tmp_path / 'in', 1)
    broken = tmp_path / 'in' / 'broken.png'
    broken.write_bytes(b'not an image at all')
    result = run([sys.executable, 'tools/infer.py', DEMO_CONFIG, tiny_files['checkpoint'],
                  tmp_path / 'in', '--out', tmp_path / 'out', '--cfg-options',
                  *tiny_model_options()])
    assert result.returncode == 1, result.stderr[-3000:]
    assert str(broken) in result.stderr
    assert 'BytesIO' not in result.stderr and ' object at 0x' not in result.stderr


def test_test_deployed_names_an_unreadable_test_image(tiny_files, tiny_synthetic_root,
                                                      tmp_path):
    root = tmp_path / 'data'
    run_tool(['cp', '-r', tiny_synthetic_root, root])
    test_names = (root / 'splits' / 'test.txt').read_text().split()
    broken = next((root / 'images').glob(f'{test_names[0]}.*'))
    broken.write_bytes(b'garbage')
    result = run([sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG,
                  tiny_files['onnx'], *deployed_options(root)])
    line = assert_one_line_error(result, broken)
    assert 'BytesIO' not in line and ' object at 0x' not in line
