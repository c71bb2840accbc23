"""End-to-end runs of tools/train.py, tools/test.py, mim and tools/infer.py."""
import csv
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmseg_serank.visualization import OUTCOME_COLORS

from .conftest import DEMO_CONFIG, run_tool, tiny_model_options, tiny_run_options

pytestmark = pytest.mark.slow


def test_train_writes_checkpoints_and_validates(trained_run):
    work_dir, result = trained_run
    assert (work_dir / 'epoch_1.pth').exists()
    assert (work_dir / 'epoch_2.pth').exists()
    log = result.stdout + result.stderr
    assert 'IRSTD/IoU' in log
    best = list(work_dir.glob('best_IRSTD_IoU*.pth'))
    assert best, 'save_best on IRSTD/IoU kept no checkpoint'
    checkpoint = torch.load(work_dir / 'epoch_2.pth', map_location='cpu',
                            weights_only=False)
    assert checkpoint['meta']['epoch'] == 2
    assert any(key.startswith('backbone.') for key in checkpoint['state_dict'])


def test_test_tool_reports_metrics_and_pictures(trained_run, tiny_synthetic_root,
                                                tmp_path):
    work_dir, _ = trained_run
    show_dir = tmp_path / 'show'
    run_args = [sys.executable, 'tools/test.py', DEMO_CONFIG,
                work_dir / 'epoch_2.pth', '--work-dir', tmp_path / 'test',
                '--show-dir', show_dir, '--cfg-options',
                *tiny_run_options(tiny_synthetic_root)]
    first = run_tool(run_args)
    run_tool(run_args)
    assert 'IoU' in first.stdout + first.stderr
    reports = sorted((tmp_path / 'test').rglob('*metrics*.json'))
    assert len(reports) == 2, 'a second test run must not overwrite the first'
    metrics = json.loads(reports[0].read_text())
    flat = json.dumps(metrics)
    for name in ('IoU', 'nIoU', 'Pd', 'Fa'):
        assert name in flat
    pictures = list(show_dir.rglob('*.png'))
    assert len(pictures) >= 4


def test_mim_train_and_test_use_the_plugin(tiny_synthetic_root, tmp_path):
    mim = shutil.which('mim', path=str(Path(sys.executable).parent))
    assert mim is not None, 'openmim is part of the dev stack'
    work_dir = tmp_path / 'mim'
    run_tool([mim, 'train', 'mmseg', DEMO_CONFIG, '--work-dir', work_dir,
              '--cfg-options', *tiny_run_options(tiny_synthetic_root, max_epochs=1)])
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.exists()
    show_dir = tmp_path / 'show'
    result = run_tool([mim, 'test', 'mmseg', DEMO_CONFIG, '--checkpoint', checkpoint,
                       '--work-dir', work_dir / 'test', '--show-dir', show_dir,
                       '--cfg-options', *tiny_run_options(tiny_synthetic_root, max_epochs=1)])
    assert 'IRSTD/IoU' in result.stdout + result.stderr
    # mmseg's own test script draws through the configs' IRSTDVisualizationHook and
    # IRSTDLocalVisualizer, whose LocalVisBackend writes <show-dir>/vis_data/vis_image.
    test_names = (tiny_synthetic_root / 'splits' / 'test.txt').read_text().split()
    pictures = (show_dir / 'vis_data' / 'vis_image').glob('*.png')
    assert sorted(p.name for p in pictures) == sorted(f'test_{n}_0.png' for n in test_names)


def test_test_run_sends_the_pictures_to_tensorboard(trained_run, tiny_synthetic_root,
                                                    tmp_path):
    """vis_backends with TensorboardVisBackend and mmseg's stock SegVisualizationHook:
    the event file holds one hit / miss / false-alarm picture per test image, the
    same picture the LocalVisBackend writes."""
    pytest.importorskip('tensorboard')
    work_dir, _ = trained_run
    config = tmp_path / 'tensorboard_config.py'
    config.write_text(
        f'_base_ = [{str(DEMO_CONFIG)!r}]\n'
        "vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]\n"
        'visualizer = dict(vis_backends=vis_backends)\n'
        "default_hooks = dict(visualization=dict(_delete_=True, type='SegVisualizationHook',"
        ' draw=True, interval=1))\n')
    run_tool([sys.executable, 'tools/test.py', config, work_dir / 'epoch_2.pth',
              '--work-dir', tmp_path / 'test', '--cfg-options',
              *tiny_run_options(tiny_synthetic_root)])
    vis_data, = (tmp_path / 'test').glob('*/vis_data')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(vis_data), size_guidance={'images': 0})
    events.Reload()
    logged = {tag: [(event.step, cv2.imdecode(np.frombuffer(event.encoded_image_string,
                                                            np.uint8), cv2.IMREAD_COLOR))
                    for event in events.Images(tag)]
              for tag in events.Tags()['images']}
    test_names = (tiny_synthetic_root / 'splits' / 'test.txt').read_text().split()
    assert sorted(logged) == sorted(f'test_{name}.png' for name in test_names)
    ground_truth = np.array(OUTCOME_COLORS['ground_truth'], np.uint8)
    outlined = 0
    for tag, [(step, picture)] in logged.items():
        local = cv2.imread(str(vis_data / 'vis_image' / f'{tag}_{step}.png'))
        assert np.array_equal(picture, local), tag
        assert picture.shape[1] >= 512  # 64 px images enlarged for the tiny targets
        outlined += bool((picture == ground_truth).all(axis=-1).any())
    assert outlined, 'no picture shows a ground-truth outline'


def test_infer_on_a_folder_writes_maps_and_targets(trained_run, tiny_synthetic_root,
                                                   tmp_path):
    work_dir, _ = trained_run
    out_dir = tmp_path / 'infer'
    images = tiny_synthetic_root / 'images'
    run_tool([sys.executable, 'tools/infer.py', DEMO_CONFIG,
              work_dir / 'epoch_2.pth', images, '--out', out_dir, '--batch-size', 3,
              '--cfg-options', *tiny_model_options()])
    count = len(list(images.glob('*.png')))
    for suffix in ('prob', 'mask', 'overlay'):
        assert len(list(out_dir.glob(f'*_{suffix}.png'))) == count
    with open(out_dir / 'targets.csv') as handle:
        rows = list(csv.DictReader(handle))
    summary = json.loads((out_dir / 'targets.json').read_text())
    assert summary['num_images'] == count
    assert summary['threshold'] == 0.5  # the model's
    assert len(rows) == len(summary['targets'])
    # At the default threshold the mask is the model's prediction: not every
    # pixel (a second sigmoid made every probability > 0.5 and every pixel a
    # target), and the saved probability is the model's (not sigmoid(p) >= 0.5).
    for mask_file in out_dir.glob('*_mask.png'):
        mask = cv2.imread(str(mask_file), cv2.IMREAD_UNCHANGED)
        probability = cv2.imread(str(mask_file).replace('_mask', '_prob'),
                                 cv2.IMREAD_UNCHANGED)
        assert not mask.all()
        assert (probability < 128).any()
        # round(p * 255) puts p = 0.5 (not a target) at 128 too
        assert (probability[mask > 0] >= 128).all() and (probability[mask == 0] <= 128).all()


def test_amp_without_cuda_falls_back_to_fp32_and_channels_last_trains(
        tiny_synthetic_root, tmp_path):
    if torch.cuda.is_available():
        pytest.skip('checks the CPU fallback of --amp')
    work_dir = tmp_path / 'amp'
    result = run_tool([sys.executable, 'tools/train.py', DEMO_CONFIG, '--amp',
                       '--channels-last', '--work-dir', work_dir, '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root, max_epochs=1)])
    assert '--amp needs a CUDA device' in result.stderr
    assert 'AmpOptimWrapper' not in (work_dir / Path(DEMO_CONFIG).name).read_text()
    assert (work_dir / 'epoch_1.pth').exists()


def test_test_tool_with_tta_runs_the_irstd_tta_model(trained_run,
                                                            tiny_synthetic_root, tmp_path):
    work_dir, _ = trained_run
    result = run_tool([sys.executable, 'tools/test.py', DEMO_CONFIG,
                       work_dir / 'epoch_2.pth', '--tta', '--work-dir', tmp_path,
                       '--cfg-options', *tiny_run_options(tiny_synthetic_root),
                       'test_evaluator.thresholds=5'])
    assert 'IRSTDTTAModel' in (tmp_path / Path(DEMO_CONFIG).name).read_text()
    report = json.loads(next((tmp_path / 'test_results').glob('*_metrics.json')).read_text())
    metrics = report['metrics']
    # The plumbing: tta_pipeline and IRSTDTTAModel ran and the metric (which
    # refuses maps outside [0, 1]) scored their merged probabilities; the
    # numerics are checked in tests/test_models/test_irstd_tta.py.
    assert 0 <= metrics['IRSTD/IoU'] <= 100
    assert 'IRSTD/ROC_AUC' in metrics
    assert 'IoU' in result.stdout


def test_deploy_checkpoint_tests_with_the_deploy_option(trained_run, tiny_synthetic_root,
                                                        tmp_path):
    work_dir, _ = trained_run
    deployed = tmp_path / 'deploy.pth'
    conversion = run_tool([sys.executable, 'tools/deployment/reparameterize.py', DEMO_CONFIG,
                           work_dir / 'epoch_2.pth', deployed, '--shape', 32, 32,
                           '--cfg-options', *tiny_model_options()])
    assert f'wrote {deployed}' in conversion.stdout
    state = torch.load(deployed, weights_only=True)['state_dict']
    assert not any('.bn.' in key for key in state)  # BN folded away
    result = run_tool([sys.executable, 'tools/test.py', DEMO_CONFIG, deployed,
                       '--work-dir', tmp_path / 'test', '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root),
                       'model.backbone.deploy=True', 'model.decode_head.deploy=True'])
    assert 'IRSTD/IoU' in result.stdout + result.stderr
    assert 'unexpected key' not in result.stdout + result.stderr
