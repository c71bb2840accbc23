"""An image damaged after the dataset build: the run stops naming it and resumes."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mmseg_serank.checkpoint import load_checkpoint_safely

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def test_truncated_image_mid_training_names_the_file_and_run_resumes(
        tiny_synthetic_root, tmp_path):
    data_root = tmp_path / 'data'
    shutil.copytree(tiny_synthetic_root, data_root)  # the session copy stays intact
    work_dir = tmp_path / 'run'

    def train(max_epochs: int, *extra: str) -> list:
        # The demo config's two loader workers, as a user trains: the error
        # crosses the worker boundary.
        return [sys.executable, 'tools/train.py', DEMO_CONFIG, '--work-dir', work_dir,
                *extra, '--cfg-options', *tiny_run_options(data_root, max_epochs),
                'train_dataloader.num_workers=2']

    run_tool(train(1))
    assert (work_dir / 'epoch_1.pth').is_file()

    # Cut the pixel data but keep the header: the build-time check (headers,
    # sizes) still passes, so the damage shows only when the file is decoded.
    damaged = data_root / 'images' / 'synth_00003.png'
    intact = damaged.read_bytes()
    damaged.write_bytes(intact[:len(intact) // 2])
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    failed = subprocess.run([str(a) for a in train(2, '--resume')], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    log = failed.stdout + failed.stderr
    assert failed.returncode != 0, log[-3000:]
    assert f'{damaged}: cannot decode' in log, log[-3000:]
    assert 'resumed epoch: 1' in log  # it failed in epoch 2, after the build
    assert not (work_dir / 'epoch_2.pth').exists()
    last = Path((work_dir / 'last_checkpoint').read_text().strip())
    assert last.name == 'epoch_1.pth'
    assert load_checkpoint_safely(str(last))['meta']['epoch'] == 1

    damaged.write_bytes(intact)
    result = run_tool(train(2, '--resume'))
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    assert load_checkpoint_safely(str(work_dir / 'epoch_2.pth'))['meta']['epoch'] == 2
