"""tools/analysis_tools/benchmark_models.py: two models, one table, curves, resume."""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, TINY_WIDTH, run_tool

pytestmark = pytest.mark.slow

TOOL = 'tools/analysis_tools/benchmark_models.py'
LOADER_OPTIONS = ['train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
                  'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']


def write_tiny_configs(folder: Path) -> list:
    """A tiny SeRankDet and a tiny stock UNet, both on the synthetic layout."""
    widths = [TINY_WIDTH * 2**i for i in range(5)]
    serankdet = folder / 'tiny_serankdet.py'
    serankdet.write_text(
        f'_base_ = [{str(DEMO_CONFIG)!r}]\n'
        f'model = dict(backbone=dict(base_channels={TINY_WIDTH}), decode_head=dict('
        f'in_channels={widths}, channels={TINY_WIDTH}))\n')
    unet = folder / 'tiny_unet.py'
    baseline = REPO_ROOT / 'configs/baselines/unet-s5-d16_fcn_1xb4-1500e_sirst-512x512.py'
    unet.write_text(
        f'_base_ = [{str(baseline)!r}]\n'
        'model = dict(backbone=dict(base_channels=8), decode_head=dict(in_channels=8, '
        'channels=8), auxiliary_head=dict(in_channels=16, channels=8))\n'
        # The synthetic set's generic layout, with 64 px training crops.
        "train_pipeline = [dict(type='LoadIRImageFromFile'), dict(type='LoadIRAnnotations'),\n"
        "    dict(type='PadToMinSize', size=(64, 64)),\n"
        "    dict(type='RandomCrop', crop_size=(64, 64)),\n"
        "    dict(type='PackSegInputs')]\n"
        "train_dataloader = dict(dataset=dict(type='IRSTDDataset', ann_file='splits/train.txt',\n"
        '    pipeline=train_pipeline))\n'
        "val_dataloader = dict(dataset=dict(type='IRSTDDataset', ann_file='splits/test.txt'))\n"
        "test_dataloader = dict(dataset=dict(type='IRSTDDataset', ann_file='splits/test.txt'))\n")
    return [serankdet, unet]


def benchmark_command(configs, work_dir, data_root, iters):
    return [sys.executable, TOOL, *configs, '--work-dir', work_dir, '--iters', iters,
            '--data-root', data_root, '--shape', 64, 64, '--latency-runs', 1,
            '--thresholds', 5, '--cfg-options', *LOADER_OPTIONS]


def test_benchmark_trains_tests_and_tabulates_two_models(tiny_synthetic_root, tmp_path):
    configs = write_tiny_configs(tmp_path)
    work_dir = tmp_path / 'bench'
    result = run_tool(benchmark_command(configs, work_dir, tiny_synthetic_root, 4))
    with open(work_dir / 'benchmark.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert [row['model'] for row in rows] == ['tiny_serankdet', 'tiny_unet']
    for row in rows:
        for column in ('IoU', 'nIoU', 'Pd', 'Fa (x1e-6)', 'F1', 'ROC AUC', 'params (M)',
                       'GMACs', 'latency (ms)', 'train (s)'):
            assert row[column] not in ('', '-'), (row['model'], column)
        assert 0 <= float(row['IoU']) <= 100
    assert (work_dir / 'benchmark_curves.png').stat().st_size > 0
    assert '| tiny_unet |' in (work_dir / 'benchmark.md').read_text()
    for name in ('tiny_serankdet', 'tiny_unet'):
        recorded = json.loads((work_dir / name / 'result.json').read_text())
        assert recorded['iters'] == 4
        assert (work_dir / name / 'iter_4.pth').exists()
    assert 'iteration 4/4' in result.stdout

    again = run_tool(benchmark_command(configs, work_dir, tiny_synthetic_root, 4))
    assert again.stdout.count('finished earlier') == 2
    changed = subprocess.run(
        [str(a) for a in benchmark_command(configs, work_dir, tiny_synthetic_root, 6)],
        cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ,
                                                                PYTHONPATH=str(REPO_ROOT)))
    assert changed.returncode != 0
    assert 'written for other settings' in changed.stdout + changed.stderr
    assert 'max_iters=6' in changed.stdout + changed.stderr  # names what differs


def trainer_pids(driver_pid: int) -> list:
    """The processes whose parent is the benchmark driver (its tools/train.py)."""
    pids = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == driver_pid:
            pids.append(int(stat.parent.name))
    return pids


def test_interrupted_benchmark_continues_from_its_checkpoint_and_counts_its_time(
        tiny_synthetic_root, tmp_path):
    config = write_tiny_configs(tmp_path)[:1]
    work_dir = tmp_path / 'bench'
    command = [str(a) for a in benchmark_command(config, work_dir, tiny_synthetic_root, 8)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    model_dir = work_dir / 'tiny_serankdet'
    deadline = time.time() + 240
    # The runner writes iter_N.pth, then the last_checkpoint pointer that --resume
    # reads; a kill between the two (seen on a loaded machine) restarts from scratch.
    while not (model_dir / 'last_checkpoint').exists() and time.time() < deadline:
        assert process.poll() is None, 'the benchmark ended before it could be interrupted'
        time.sleep(0.05)
    # The trainer dies (as under the OOM killer or a pre-emption of its node).
    for pid in trainer_pids(process.pid):
        os.kill(pid, signal.SIGKILL)
    driver_output = process.communicate(timeout=120)[0]
    assert process.returncode == 1, driver_output
    assert 'FAILED: training failed' in driver_output
    assert not (model_dir / 'result.json').exists()
    assert not (model_dir / 'iter_8.pth').exists()
    resumed = re.search(r'iter_(\d+)\.pth', (model_dir / 'last_checkpoint').read_text())[1]
    # The seconds it took to reach that checkpoint are kept for the table.
    before_kill = json.loads((model_dir / 'train_seconds.json').read_text())['checkpoints']
    assert before_kill[resumed] > 0

    result = run_tool(command)
    assert f'continuing from {model_dir / f"iter_{resumed}.pth"}' in result.stdout
    assert 'no training time is recorded' not in result.stdout
    assert 'Resuming' in (model_dir / 'train_output.log').read_text() or \
        'resumed' in (model_dir / 'train_output.log').read_text().lower()
    recorded = json.loads((model_dir / 'result.json').read_text())
    assert recorded['iters'] == 8
    final = json.loads((model_dir / 'train_seconds.json').read_text())
    # The table's time is the checkpoint's seconds plus the resumed run's up to iter_8.
    assert recorded['train_seconds'] == final['seconds'] == final['checkpoints']['8']
    assert final['checkpoints'][resumed] == before_kill[resumed]
    assert recorded['train_seconds'] > before_kill[resumed]


def test_links_among_the_outputs_are_refused_before_anything_trains(tiny_synthetic_root,
                                                                    tmp_path):
    config = write_tiny_configs(tmp_path)[:1]
    work_dir = tmp_path / 'bench'
    (work_dir / 'tiny_serankdet').mkdir(parents=True)
    victims = {}
    for link in (work_dir / 'benchmark.md', work_dir / 'tiny_serankdet' / 'result.json'):
        victim = tmp_path / f'users_{link.name}'
        victim.write_text('the user\'s own file\n')
        link.symlink_to(victim)
        victims[link] = victim
    command = [str(a) for a in benchmark_command(config, work_dir, tiny_synthetic_root, 2)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1
    assert 'nothing was trained' in result.stderr
    for link, victim in victims.items():
        assert f'{link} is a symbolic link; refusing to replace it' in result.stderr
        assert victim.read_text() == 'the user\'s own file\n'
        assert link.is_symlink()
    assert not (work_dir / 'tiny_serankdet' / 'train_output.log').exists()


def test_a_broken_model_is_reported_and_the_others_are_tabulated(tiny_synthetic_root,
                                                                 tmp_path):
    serankdet = write_tiny_configs(tmp_path)[0]
    broken = tmp_path / 'broken_optimizer.py'
    broken.write_text(f'_base_ = [{str(serankdet)!r}]\n'
                      "optim_wrapper = dict(optimizer=dict(type='NoSuchOptimizer'))\n")
    work_dir = tmp_path / 'bench'
    command = [str(a) for a in benchmark_command([broken, serankdet], work_dir,
                                                 tiny_synthetic_root, 2)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1
    failure = result.stdout.split('FAILED: training failed (exit 1): ')[1].split(' (whole')[0]
    broken_log = (work_dir / 'broken_optimizer' / 'train_output.log').read_text()
    assert 'Error' in failure and failure in broken_log  # the child's own error line
    assert '1 model(s) failed: broken_optimizer' in result.stderr
    with open(work_dir / 'benchmark.csv', newline='') as handle:
        rows = {row['model']: row for row in csv.DictReader(handle)}
    assert rows['broken_optimizer (failed)']['IoU'] == '-'
    assert 0 <= float(rows['tiny_serankdet']['IoU']) <= 100
    # Scored once: validation is off, tools/test.py scores the last checkpoint.
    train_log = (work_dir / 'tiny_serankdet' / 'train_output.log').read_text()
    assert 'Iter(val)' not in train_log

    missing_root = subprocess.run(
        [str(a) for a in benchmark_command([serankdet], tmp_path / 'other',
                                           tmp_path / 'no_data', 2)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert missing_root.returncode == 1
    assert 'no_data: no such folder' in missing_root.stderr
    assert not (tmp_path / 'other' / 'tiny_serankdet').exists()
