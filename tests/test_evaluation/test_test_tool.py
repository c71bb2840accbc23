"""tools/test.py: metrics table, JSON results, --show-dir pictures, sweep files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (patches mmcv-lite before mmseg.models loads)

REPO_ROOT = Path(__file__).resolve().parents[2]

# A tiny stock-mmseg UNet keeps this independent of the SeRankDet model.
CONFIG = """
custom_imports = dict(imports=['mmseg_serank'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[0, 0, 0],
                           std=[255, 255, 255]),
    backbone=dict(type='UNet', in_channels=3, base_channels=4, num_stages=2,
                  strides=(1, 1), enc_num_convs=(1, 1), dec_num_convs=(1,),
                  downsamples=(True,), enc_dilations=(1, 1), dec_dilations=(1,),
                  norm_cfg=dict(type='BN')),
    decode_head=dict(type='FCNHead', in_channels=4, channels=4, num_convs=1,
                     num_classes=2, out_channels=1, threshold=0.5,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True)),
    test_cfg=dict(mode='whole'))
test_dataloader = dict(
    batch_size=1, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BaseSegDataset', data_root='{root}',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        img_suffix='.png', seg_map_suffix='.png',
        metainfo=dict(classes=('background', 'target'),
                      palette=[[0, 0, 0], [255, 255, 255]]),
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
test_evaluator = dict(type='IRSTDMetric', thresholds=3)
test_cfg = dict(type='TestLoop')
default_hooks = dict(visualization=dict(type='SegVisualizationHook'))
"""


@pytest.fixture(scope='module')
def tiny_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('tool')
    rng = np.random.default_rng(0)
    for folder in ('data/images', 'data/masks'):
        (root / folder).mkdir(parents=True)
    for index, (height, width) in enumerate([(32, 48), (32, 32)]):
        image = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), np.uint8)
        mask[5:8, 6:9] = 1
        image[mask > 0] = 250
        cv2.imwrite(str(root / f'data/images/im{index}.png'), image)
        cv2.imwrite(str(root / f'data/masks/im{index}.png'), mask)
    config_path = root / 'tiny.py'
    config_path.write_text(CONFIG.replace('{root}', str(root / 'data')))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(Config.fromfile(str(config_path)).model)
    checkpoint = root / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    return root, config_path, checkpoint


def _test_tool(config_path, checkpoint, work_dir, *extra) -> subprocess.CompletedProcess:
    """tools/test.py as a user runs it, whatever its exit status."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, 'tools/test.py', str(config_path), str(checkpoint),
         '--work-dir', str(work_dir), *map(str, extra)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)


def run_test_tool(config_path, checkpoint, work_dir, *extra):
    result = _test_tool(config_path, checkpoint, work_dir, *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_show_dir_pictures_table_and_unique_json(tiny_setup):
    root, config_path, checkpoint = tiny_setup
    work_dir, show_dir = root / 'work', root / 'show'
    first = run_test_tool(config_path, checkpoint, work_dir, '--show-dir', show_dir)
    assert 'IoU (%)' in first.stdout and 'Fa (x1e-6)' in first.stdout
    assert sorted(p.name for p in show_dir.iterdir()) == ['im0.png', 'im1.png']
    assert cv2.imread(str(show_dir / 'im0.png')).shape[1] >= 512
    run_test_tool(config_path, checkpoint, work_dir)
    saved = sorted((work_dir / 'test_results').glob('*_metrics.json'))
    assert len(saved) == 2  # the second run did not overwrite the first
    record = json.loads(saved[0].read_text())
    assert record['checkpoint'] == str(checkpoint)
    assert {'IRSTD/IoU', 'IRSTD/Pd', 'IRSTD/Fa', 'IRSTD/ROC_AUC'} <= set(
        record['metrics'])
    curves = list((work_dir / 'test_results').glob('*_curves/irstd_curves.png'))
    assert len(curves) == 2


def run_test_tool_failing(config_path, checkpoint, work_dir, *extra):
    result = _test_tool(config_path, checkpoint, work_dir, *extra)
    assert result.returncode != 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert 'pictures of hits' not in result.stdout
    return result


@pytest.mark.parametrize('folder', ['under_a_file/show', 'x' * 300])
def test_unusable_show_dir_fails_before_testing(tiny_setup, tmp_path, folder):
    """A folder that cannot be made (a path through a regular file, a name over
    255 bytes; both fail for root too) stops the run before the model is built."""
    root, config_path, checkpoint = tiny_setup
    (tmp_path / 'under_a_file').write_text('a regular file')
    show_dir, work_dir = tmp_path / folder, tmp_path / 'work'
    result = run_test_tool_failing(config_path, checkpoint, work_dir, '--show-dir', show_dir)
    assert f'--show-dir: picture folder {show_dir}: cannot create it' in result.stderr
    assert not work_dir.exists()  # no runner, no metrics file


def test_failed_picture_write_is_an_error_naming_the_file(tiny_setup, tmp_path):
    """A picture that cannot be written (here its name is taken by a folder,
    which stops root too) fails the run instead of being reported as saved."""
    root, config_path, checkpoint = tiny_setup
    show_dir, work_dir = tmp_path / 'show', tmp_path / 'work'
    (show_dir / 'im1.png').mkdir(parents=True)
    result = run_test_tool_failing(config_path, checkpoint, work_dir, '--show-dir', show_dir)
    assert f'{show_dir / "im1.png"}: cannot write the picture' in result.stderr
    assert not list(work_dir.glob('test_results/*_metrics.json'))


@pytest.mark.parametrize('option, message', [
    ('test_evaluator.empty_image_iou=5', 'empty_image_iou is an IoU, so in [0, 1], got 5'),
    ('test_evaluator.match_distance=-1', 'match_distance must be a finite number'),
])
def test_invalid_metric_setting_fails_without_metrics(tiny_setup, tmp_path, option, message):
    root, config_path, checkpoint = tiny_setup
    work_dir = tmp_path / 'work'
    result = run_test_tool_failing(config_path, checkpoint, work_dir, '--cfg-options', option)
    assert message in result.stderr
    assert not list(work_dir.glob('test_results/*_metrics.json'))
