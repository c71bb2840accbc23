"""Two-process CPU data-parallel training, and a killed run resumed with --resume."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
import torch

from mmseg_serank.checkpoint import load_checkpoint_safely

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def test_two_process_gloo_training_keeps_ranks_in_agreement(tiny_synthetic_root,
                                                             tmp_path):
    work_dir = tmp_path / 'ddp'
    # A hook list cannot be given through --cfg-options, so a config inherits
    # the demo one and adds the probe.
    probe_config = tmp_path / 'demo_with_rank_probe.py'
    probe_config.write_text(
        f"_base_ = ['{DEMO_CONFIG}']\n"
        "custom_imports = dict(imports=['mmseg_serank', 'rank_probe'],\n"
        "                      allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='RankProbeHook')]\n")
    options = tiny_run_options(tiny_synthetic_root, max_epochs=2) + [
        'env_cfg.dist_cfg.backend=gloo',
        'train_dataloader.batch_size=2',
    ]
    run_tool(['bash', 'tools/dist_train.sh', probe_config, '2', '--work-dir',
              work_dir, '--cfg-options', *options],
             timeout=600,
             env_extra=dict(PYTHON=sys.executable, PORT='29617',
                            PYTHONPATH=f'{REPO_ROOT}:{Path(__file__).parent}'))
    records = [json.loads((work_dir / f'rank{rank}.json').read_text())
               for rank in (0, 1)]
    assert [r['world_size'] for r in records] == [2, 2]
    # 8 training images, 2 per process and step -> 2 steps an epoch.
    assert records[0]['iter'] == records[1]['iter'] == 4
    assert records[0]['checksum'] == pytest.approx(records[1]['checksum'], rel=1e-9)
    assert records[0]['metrics'] == records[1]['metrics']
    assert 'IRSTD/IoU' in records[0]['metrics']


def test_mim_pytorch_launcher_trains_two_processes(tiny_synthetic_root, tmp_path):
    """`mim train mmseg CONFIG --launcher pytorch --gpus 2`, CPU-only: with
    enable_cpu_distributed called (from a plugin module in custom_imports, as
    mmseg's own script does not call it) nccl falls back to gloo (no backend
    override given)."""
    mim = shutil.which('mim', path=str(Path(sys.executable).parent))
    assert mim is not None, 'openmim is part of the dev stack'
    work_dir = tmp_path / 'mim_ddp'
    config = tmp_path / 'demo_on_cpu_ddp.py'
    config.write_text(
        f"_base_ = ['{DEMO_CONFIG}']\n"
        "custom_imports = dict(imports=['mmseg_serank', 'cpu_ddp_plugin'],\n"
        "                      allow_failed_imports=False)\n")
    result = run_tool([mim, 'train', 'mmseg', config, '--launcher', 'pytorch',
                       '--gpus', '2', '--port', '29618', '--work-dir', work_dir,
                       '--cfg-options', *tiny_run_options(tiny_synthetic_root, max_epochs=1),
                       'train_dataloader.batch_size=2'],
                      timeout=600,
                      env_extra=dict(PYTHONPATH=f'{REPO_ROOT}:{Path(__file__).parent}'))
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    assert 'IRSTD/IoU' in log
    assert (work_dir / 'epoch_1.pth').exists()


def _wait_for(ready: Callable[[], bool], what: str, process: subprocess.Popen,
              timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ''
            raise AssertionError(f'training ended before {what}:\n{output[-3000:]}')
        if time.monotonic() > deadline:
            raise AssertionError(f'{what} did not happen in {timeout} s')
        time.sleep(0.2)


def _points_at_epoch_2_or_later(pointer: Path) -> bool:
    """``last_checkpoint`` names epoch_N.pth with N >= 2 (it exists since epoch 1,
    and is rewritten just after the newer checkpoint, so its content is what counts)."""
    try:
        match = re.search(r'epoch_(\d+)\.pth$', pointer.read_text().strip())
    except FileNotFoundError:
        return False
    return bool(match) and int(match.group(1)) >= 2


def test_killed_run_resumes_with_same_state(tiny_synthetic_root, tmp_path):
    work_dir = tmp_path / 'resume'
    args = [sys.executable, 'tools/train.py', str(DEMO_CONFIG), '--work-dir',
            str(work_dir), '--cfg-options',
            *tiny_run_options(tiny_synthetic_root, max_epochs=6)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    process = subprocess.Popen(args, cwd=REPO_ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        _wait_for(lambda: _points_at_epoch_2_or_later(work_dir / 'last_checkpoint'),
                  'last_checkpoint naming epoch 2', process, timeout=240)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not (work_dir / 'epoch_6.pth').exists(), 'the run was not interrupted'

    for checkpoint_file in work_dir.glob('*.pth'):
        load_checkpoint_safely(str(checkpoint_file))  # nothing half-written
    last = Path((work_dir / 'last_checkpoint').read_text().strip())
    killed_state = load_checkpoint_safely(str(last))
    killed_epoch = killed_state['meta']['epoch']
    assert killed_epoch >= 2

    result = run_tool([*args[:2], '--resume', *args[2:]])
    log = result.stdout + result.stderr
    assert f'resumed epoch: {killed_epoch}, iter: {2 * killed_epoch}' in log
    final = load_checkpoint_safely(str(work_dir / 'epoch_6.pth'))
    assert final['meta']['epoch'] == 6
    # 8 images, batch 4 -> 2 iterations an epoch, counted on from the kill.
    assert final['meta']['iter'] == 12
    # The message hub records the zero-based index of the last iteration run.
    assert final['message_hub']['runtime_info']['iter'] == 11
    # The poly decay (the warm-up ended in epoch 1) went on from its saved step.
    killed_poly = killed_state['param_schedulers'][-1]
    final_poly = final['param_schedulers'][-1]
    assert final_poly['last_step'] - killed_poly['last_step'] == 12 - 2 * killed_epoch
    assert torch.is_tensor(next(iter(final['state_dict'].values())))
