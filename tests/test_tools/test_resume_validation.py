"""A run killed while validating epoch N validates N on --resume (so N can be best)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow

KILLER = '''
import os
import signal

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class KillDuringValidationHook(Hook):
    """SIGKILL the run in the middle of its first validation, as a pre-emption would."""

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if os.environ.get('KILL_DURING_VALIDATION') == '1':
            os.kill(os.getpid(), signal.SIGKILL)
'''


def test_validation_killed_mid_epoch_runs_on_resume(tiny_synthetic_root, tmp_path):
    (tmp_path / 'validation_killer.py').write_text(KILLER)
    config = tmp_path / 'killed_during_validation.py'
    config.write_text(
        f"_base_ = [{str(DEMO_CONFIG)!r}]\n"
        "custom_imports = dict(imports=['mmseg_serank', 'validation_killer'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='ResumeValidationHook'),\n"
        "                dict(type='KillDuringValidationHook')]\n")
    work_dir = tmp_path / 'run'

    def train(max_epochs: int, *extra: str) -> list:
        return [sys.executable, 'tools/train.py', config, '--work-dir', work_dir, *extra,
                '--cfg-options', *tiny_run_options(tiny_synthetic_root, max_epochs)]

    env = dict(os.environ, PYTHONPATH=f'{REPO_ROOT}{os.pathsep}{tmp_path}',
               OMP_NUM_THREADS='1', KILL_DURING_VALIDATION='1')
    killed = subprocess.run([str(a) for a in train(2)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (work_dir / 'epoch_1.pth').is_file()
    assert not list(work_dir.glob('best_*.pth'))  # epoch 1 was never scored

    resumed = run_tool(train(2, '--resume'), env_extra=dict(PYTHONPATH=f'{REPO_ROOT}'
                                                            f'{os.pathsep}{tmp_path}'))
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 1' in log
    assert 'validation never finished' in log
    # Epoch 1 is scored before epoch 2 trains, so it can become the best.
    assert log.index('Epoch(val) [1]') < log.index('Epoch(train) [2]')
    assert 'best_IRSTD_IoU_epoch_1.pth' in log  # its first score is the best so far

    again = run_tool(train(3, '--resume'), env_extra=dict(PYTHONPATH=f'{REPO_ROOT}'
                                                          f'{os.pathsep}{tmp_path}'))
    log = again.stdout + again.stderr
    assert 'resumed epoch: 2' in log
    assert 'validation never finished' not in log  # epoch 2 was validated: no rerun
    assert log.count('Epoch(val) [2]') == 0
    assert Path(work_dir / 'epoch_3.pth').is_file()
