"""Shared fixtures for end-to-end runs of the real tools on small synthetic data."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Sequence

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = (REPO_ROOT / 'configs/serankdet'
               / 'serankdet-lite8_1xb8-45e_synthetic-96x96.py')
TINY_WIDTH = 4


# The analysis and misc tools as scripts (mmseg's tools tree, linked into .mim for mim run).
TOOL_SCRIPTS = {'get_flops': 'tools/analysis_tools/get_flops.py',
                'analyze_logs': 'tools/analysis_tools/analyze_logs.py',
                'browse_dataset': 'tools/misc/browse_dataset.py',
                'print_config': 'tools/misc/print_config.py'}


def load_tool(relative_path: str):
    """A script under tools/ as a module (scripts are not a package), to call its main."""
    path = REPO_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem + '_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_model_options(width: int = TINY_WIDTH) -> List[str]:
    """--cfg-options that shrink SeRankDet to a few thousand parameters."""
    return [f'model.backbone.base_channels={width}']


def tiny_run_options(data_root: Path, max_epochs: int = 2) -> List[str]:
    """--cfg-options for a short run on the tiny synthetic set."""
    return tiny_model_options() + [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        f'train_cfg.max_epochs={max_epochs}',
        'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=5',
        'default_hooks.logger.interval=1',
    ]


def run_tool(args: Sequence[str], timeout: int = 300,
             env_extra: dict = None) -> subprocess.CompletedProcess:
    """Run a command from the repository root; fail with its output on error."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    env.update(env_extra or {})
    result = subprocess.run([str(a) for a in args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f'{" ".join(map(str, args))} failed ({result.returncode}):\n'
        f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> Path:
    """A 12-image synthetic IRSTD set (64x64) made by the real generator."""
    root = tmp_path_factory.mktemp('synthetic') / 'irstd'
    run_tool([sys.executable, 'tools/misc/make_synthetic_dataset.py', root,
              '--num-train', 8, '--num-test', 4, '--size', 64, '--seed', 3])
    return root


@pytest.fixture(scope='session')
def trained_run(tiny_synthetic_root, tmp_path_factory):
    """One real tools/train.py run shared by the tests that need a checkpoint."""
    work_dir = tmp_path_factory.mktemp('train_run')
    result = run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG,
                       '--work-dir', work_dir, '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root)])
    return work_dir, result
