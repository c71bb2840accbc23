"""IRSTDMetric's dataset_groups from the command line, checked before inference."""
import json
import os
import subprocess
import sys

import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def grouped_test_command(trained_run, tiny_synthetic_root, tmp_path, groups: str) -> list:
    work_dir, _ = trained_run
    return [sys.executable, 'tools/test.py', DEMO_CONFIG, work_dir / 'epoch_2.pth',
            '--work-dir', tmp_path / 'test', '--cfg-options',
            *tiny_run_options(tiny_synthetic_root), f'test_evaluator.dataset_groups={groups}']


def test_dataset_groups_given_with_cfg_options_score_each_group(
        trained_run, tiny_synthetic_root, tmp_path):
    # The test split is synth_00008 .. synth_00011.
    run_tool(grouped_test_command(trained_run, tiny_synthetic_root, tmp_path,
                          '[EARLY=synth_0000,LATE=synth_0001]'))
    report = json.loads(next((tmp_path / 'test').rglob('*metrics*.json')).read_text())
    assert {'IRSTD/EARLY/IoU', 'IRSTD/LATE/IoU', 'IRSTD/IoU'} <= set(report['metrics'])


def test_an_image_of_no_group_stops_the_test_before_inference(
        trained_run, tiny_synthetic_root, tmp_path):
    command = grouped_test_command(trained_run, tiny_synthetic_root, tmp_path,
                                   '[EARLY=synth_0000]')
    result = subprocess.run([str(a) for a in command], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT),
                                     OMP_NUM_THREADS='1'))
    log = result.stdout + result.stderr
    assert result.returncode != 0
    # All misfits are named at once, and no test image went through the model.
    assert '2 of 4 images are not in exactly one group' in log, log[-3000:]
    assert 'synth_00010.png matches no group' in log
    assert 'Epoch(test)' not in log
