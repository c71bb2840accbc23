"""Checkpoints through the real tools: no code from a file, no silent misfit, no lost run."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest
import torch

from mmseg_serank.checkpoint import load_checkpoint_safely

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def run_failing(args: Sequence) -> subprocess.CompletedProcess:
    """Run a tool that must fail; return its result (output in ``.output``)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    result = subprocess.run([str(a) for a in args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    result.output = result.stdout + result.stderr
    assert result.returncode != 0, f'{args} exited 0:\n{result.output[-3000:]}'
    return result


class WritesMarker:
    """Unpickling this with plain pickle creates the file ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def crafted_checkpoint(path: Path, marker: Path, state_dict: dict) -> Path:
    torch.save({'state_dict': state_dict, 'meta': {'epoch': 1},
                'payload': WritesMarker(marker)}, path)
    return path


@pytest.mark.parametrize('tool', ['test', 'infer', 'train_load_from', 'train_resume',
                                  'convert', 'reparameterize'])
def test_crafted_pickle_runs_no_code_in_any_tool(tool, trained_run, tiny_synthetic_root,
                                                 tmp_path):
    marker = tmp_path / 'code_ran'
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    state_dict = load_checkpoint_safely(str(trained_run[0] / 'epoch_2.pth'))['state_dict']
    crafted = crafted_checkpoint(work_dir / 'epoch_1.pth', marker, state_dict)
    options = ['--cfg-options', *tiny_run_options(tiny_synthetic_root, max_epochs=2)]
    command = {
        'test': ['tools/test.py', DEMO_CONFIG, crafted, '--work-dir', work_dir, *options],
        'infer': ['tools/infer.py', DEMO_CONFIG, crafted,
                  tiny_synthetic_root / 'images', '--out', tmp_path / 'out', *options],
        'train_load_from': ['tools/train.py', DEMO_CONFIG, '--work-dir', work_dir,
                            *options, f'load_from={crafted}'],
        'train_resume': ['tools/train.py', DEMO_CONFIG, '--work-dir', work_dir,
                         '--resume', *options],
        'convert': ['tools/model_converters/serankdet2mmseg.py', crafted, tmp_path / 'out.pth'],
        'reparameterize': ['tools/deployment/reparameterize.py', DEMO_CONFIG, crafted,
                           tmp_path / 'out.pth', *options],
    }[tool]
    (work_dir / 'last_checkpoint').write_text(str(crafted))
    result = run_failing([sys.executable, *command])
    assert 'Refusing to load checkpoint' in result.output
    assert 'epoch_1.pth' in result.output
    assert not marker.exists(), 'the pickled payload ran'
    assert 'Traceback' not in result.output  # one line, every tool (train.py printed one)


@pytest.mark.parametrize('tool', ['test', 'infer', 'mim_test'])
def test_checkpoint_of_another_width_is_an_error_with_no_results(tool, trained_run,
                                                                 tiny_synthetic_root,
                                                                 tmp_path):
    """The demo config builds width 16; the trained run used width 4. mmseg's own
    test script (`mim test`) is covered by AtomicCheckpointHook."""
    work_dir, out_dir = tmp_path / 'work', tmp_path / 'out'
    data = [f'{split}_dataloader.dataset.data_root={tiny_synthetic_root}'
            for split in ('train', 'val', 'test')]
    checkpoint = trained_run[0] / 'epoch_2.pth'
    command = {
        'test': [sys.executable, 'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir',
                 work_dir],
        'infer': [sys.executable, 'tools/infer.py', DEMO_CONFIG, checkpoint,
                  tiny_synthetic_root / 'images', '--out', out_dir],
        'mim_test': [shutil.which('mim', path=str(Path(sys.executable).parent)), 'test',
                     'mmseg', DEMO_CONFIG, '--checkpoint', checkpoint, '--work-dir',
                     work_dir],
    }[tool]
    result = run_failing([*command, '--cfg-options', *data])
    assert re.search(r'does not fit the model of the config: \d+ tensors of the wrong '
                     r'shape \(checkpoint vs model\): backbone\.\S+ \(4, ', result.output)
    assert 'trained at another width' in result.output
    assert not list(tmp_path.rglob('*metrics*.json'))
    assert not out_dir.exists()


def test_authors_unconverted_file_gets_a_conversion_hint(tiny_synthetic_root, tmp_path):
    authors = tmp_path / 'SeRankDet_sirst.pth.tar'
    torch.save({'epoch': 400, 'state_dict': {
        'decode_head.Conv1.conv_layer.0.0.weight': torch.randn(16, 3, 3, 3),
        'decode_head.max_channel1.fc1.weight': torch.randn(16, 16)}}, authors)
    result = run_failing([sys.executable, 'tools/test.py', DEMO_CONFIG, authors,
                          '--work-dir', tmp_path / 'work', '--cfg-options',
                          *tiny_run_options(tiny_synthetic_root)])
    assert 'missing keys' in result.output
    assert '2 unexpected keys: decode_head.Conv1.conv_layer.0.0.weight' in result.output
    assert 'convert it once with tools/model_converters/serankdet2mmseg.py' in result.output
    assert not list(tmp_path.rglob('*metrics*.json'))


def test_bare_state_dict_works_in_test_and_infer(trained_run, tiny_synthetic_root,
                                                 tmp_path):
    state_dict = load_checkpoint_safely(str(trained_run[0] / 'epoch_2.pth'))['state_dict']
    bare = tmp_path / 'bare.pth'
    torch.save(state_dict, bare)
    options = ['--cfg-options', *tiny_run_options(tiny_synthetic_root)]
    run_tool([sys.executable, 'tools/test.py', DEMO_CONFIG, bare, '--work-dir',
              tmp_path / 'work', *options])
    assert len(list((tmp_path / 'work').rglob('*_metrics.json'))) == 1
    run_tool([sys.executable, 'tools/infer.py', DEMO_CONFIG, bare,
              tiny_synthetic_root / 'images', '--out', tmp_path / 'out', *options])
    assert (tmp_path / 'out' / 'targets.csv').exists()


def test_empty_checkpoint_is_named_as_empty(tiny_synthetic_root, tmp_path):
    empty = tmp_path / 'epoch_7.pth'
    empty.write_bytes(b'')
    result = run_failing([sys.executable, 'tools/test.py', DEMO_CONFIG, empty,
                          '--work-dir', tmp_path / 'work', '--cfg-options',
                          *tiny_run_options(tiny_synthetic_root)])
    assert f'Checkpoint "{empty}" is empty (0 bytes)' in result.output
    assert 'EOFError' not in result.output


def file_hashes(folder: Path) -> dict:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob('*')) if path.is_file()}


def test_resuming_a_copied_work_dir_leaves_the_original_byte_identical(
        trained_run, tiny_synthetic_root, tmp_path):
    """`cp -r run1 run2; tools/train.py CONFIG --work-dir run2 --resume`."""
    run1 = trained_run[0]
    run2 = tmp_path / 'run2'
    shutil.copytree(run1, run2)
    before = file_hashes(run1)
    result = run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir', run2,
                       '--resume', '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root, max_epochs=3)])
    assert file_hashes(run1) == before
    log = result.stdout + result.stderr
    assert f'Resuming from {run2 / "epoch_2.pth"}' in log
    assert 'resumed epoch: 2' in log
    assert (run2 / 'last_checkpoint').read_text().strip() == str(run2 / 'epoch_3.pth')
    assert (run2 / 'epoch_3.pth').exists()
