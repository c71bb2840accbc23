"""One owner per setting: the head's threshold makes ``pred_sem_seg``, which the
metric scores and the pictures show; ``match_distance`` and ``connectivity``
are the evaluator's IRSTDMetric's, read from there by every other consumer."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import METRICS, MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.engine.hooks import IRSTDVisualizationHook
from mmseg_serank.evaluation.functional import detect_targets
from mmseg_serank.evaluation.metrics import IRSTDMetric, detection_settings
from mmseg_serank.thresholds import set_config_threshold
from mmseg_serank.visualization import IRSTDLocalVisualizer, draw_detection_overlay

from .test_inference import REPO_ROOT
from tiny_configs import set_serankdet_width

CONFIGS = sorted(p for p in (REPO_ROOT / 'configs').glob('*/*.py') if p.parent.name != '_base_')
SHARED = ('threshold', 'match_distance', 'connectivity')
# What mmengine's runner reads; other top-level names are a file's helper variables.
RUNTIME_KEYS = ('model', 'tta_model', 'val_evaluator', 'test_evaluator', 'visualizer',
                'default_hooks', 'custom_hooks', 'train_cfg', 'val_cfg', 'test_cfg')


def setting_paths(node, path=''):
    """Dotted path of every key of a config named like a shared setting."""
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, (list, tuple)) else ())
    for key, value in items:
        child = f'{path}.{key}' if path else str(key)
        if key in SHARED:
            yield child
        yield from setting_paths(value, child)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: p.stem)
def test_every_config_writes_each_shared_setting_in_one_place(config):
    """Must show: no evaluator, hook or visualiser sets a threshold; the
    threshold is the model's, the component settings only the evaluator's."""
    cfg = Config.fromfile(config)
    for path in setting_paths(cfg.to_dict()):
        owner, key = path.rsplit('.', 1)
        if key == 'threshold':
            # The decode head's. An auxiliary head only trains, and a file's helper
            # variable (the baselines' one_channel) only feeds the heads: same value.
            assert owner in ('model.decode_head', 'model.auxiliary_head') or (
                '.' not in owner and owner not in RUNTIME_KEYS), path
            value = cfg.model[owner.split('.')[1]] if '.' in owner else cfg[owner]
            assert value.threshold == cfg.model.decode_head.threshold, path
        else:
            assert owner.split('.')[0] in ('val_evaluator', 'test_evaluator'), path
    assert 'threshold' in cfg.model.decode_head
    assert detection_settings(cfg.val_evaluator) == detection_settings(cfg.test_evaluator)


@pytest.mark.parametrize('build, place', [
    (lambda: IRSTDMetric(threshold=0.3), 'model.decode_head.threshold'),
    (lambda: METRICS.build(dict(type='IRSTDMetric', threshold=0.3)),
     'model.decode_head.threshold'),
    (lambda: IRSTDVisualizationHook(threshold=0.3), 'model.decode_head.threshold'),
    (lambda: IRSTDVisualizationHook(connectivity=4), 'test_evaluator'),
    (lambda: IRSTDVisualizationHook(match_distance=2), 'test_evaluator'),
    (lambda: IRSTDLocalVisualizer(name='owners_vis', threshold=0.3),
     'model.decode_head.threshold'),
    (lambda: IRSTDLocalVisualizer(name='owners_vis_c', connectivity=4), 'test_evaluator'),
])
def test_a_setting_given_to_a_consumer_is_refused_naming_its_place(build, place):
    with pytest.raises(ValueError, match=f'takes no .* of its own: .*{place}'):
        build()


def tiny_segmentor(threshold: float):
    """The SeRankDet config's model, its threshold set the way --threshold sets it."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(REPO_ROOT / 'configs' / '_base_' / 'models' / 'serankdet.py')
    set_serankdet_width(cfg.model, 4)
    set_config_threshold(cfg, threshold)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def predicted_samples(model, image: np.ndarray, target: np.ndarray):
    sample = SegDataSample(gt_sem_seg=PixelData(data=torch.from_numpy(target[None])))
    sample.set_metainfo(dict(img_shape=image.shape, ori_shape=image.shape,
                             pad_shape=image.shape))
    inputs = torch.from_numpy(image).float()[None].expand(3, -1, -1)
    with torch.no_grad():
        return model.test_step(dict(inputs=[inputs], data_samples=[sample]))


def test_one_threshold_override_changes_the_metric_and_the_pictures(tmp_path):
    """Must show: setting model.decode_head.threshold (what --threshold and
    --cfg-options do) changes the scored masks and the hook's pictures alike,
    each equal to what ``probability > threshold`` gives."""
    IRSTDLocalVisualizer.get_instance('owners_threshold', save_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (32, 40)).astype(np.uint8)
    target = np.zeros((32, 40), np.int64)
    target[10:13, 20:23] = 1
    image_path = tmp_path / 'frame.png'
    cv2.imwrite(str(image_path), image)
    probability = predicted_samples(tiny_segmentor(0.5), image, target)[0].seg_logits.data[0]
    lower = round(float(probability.median()), 3)
    assert (probability > lower).ne(probability > 0.5).any(), 'pick another threshold'

    scores, pictures = {}, {}
    for threshold in (0.5, lower):
        output, = predicted_samples(tiny_segmentor(threshold), image, target)
        output.set_metainfo(dict(img_path=str(image_path)))
        mask = (output.seg_logits.data[0] > threshold).numpy()
        assert np.array_equal(output.pred_sem_seg.data[0].numpy() > 0, mask)
        metric = IRSTDMetric()
        metric.process({}, [output.to_dict()])
        scores[threshold] = metric.compute_metrics(metric.results)
        union = np.logical_or(mask, target).sum()
        assert scores[threshold]['IoU'] == pytest.approx(
            100 * np.logical_and(mask, target).sum() / union)
        out_dir = tmp_path / str(threshold)
        IRSTDVisualizationHook(draw=True, out_dir=str(out_dir)).after_test_iter(
            SimpleNamespace(iter=0), 0, {}, [output])
        pictures[threshold] = cv2.imread(str(out_dir / 'frame.png'))
        expected = draw_detection_overlay(image, detect_targets(mask, target > 0),
                                          title='frame')
        assert np.array_equal(pictures[threshold], expected)
    assert scores[0.5] != scores[lower]
    assert not np.array_equal(pictures[0.5], pictures[lower])


def diagonal_scene():
    """Two diagonal pixels: one target with connectivity 8, two with 4."""
    target = np.zeros((20, 20), np.int64)
    target[5, 5] = target[6, 6] = 1
    sample = SegDataSample(metainfo=dict(img_path='scene.png'))
    sample.seg_logits = PixelData(data=torch.from_numpy(target[None] * 0.9).float())
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(target[None]))
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(target[None]))
    return sample


def test_the_hook_draws_with_the_running_metrics_component_settings(tmp_path):
    """The hook reads connectivity from the loop's IRSTDMetric (tools/test.py no
    longer copies it): with connectivity=4 the picture shows two hits."""
    init_default_scope('mmseg')
    IRSTDLocalVisualizer.get_instance('owners_connectivity', save_dir=str(tmp_path))
    sample = diagonal_scene()
    image = np.zeros((20, 20), np.uint8)
    cv2.imwrite(str(tmp_path / 'scene.png'), image)
    sample.set_metainfo(dict(img_path=str(tmp_path / 'scene.png')))
    pictures = {}
    for connectivity in (8, 4):
        runner = SimpleNamespace(iter=0, test_loop=SimpleNamespace(
            evaluator=Evaluator(dict(type='IRSTDMetric', connectivity=connectivity))))
        out_dir = tmp_path / str(connectivity)
        IRSTDVisualizationHook(draw=True, out_dir=str(out_dir)).after_test_iter(
            runner, 0, {}, [sample])
        pictures[connectivity] = cv2.imread(str(out_dir / 'scene.png'))
        target = sample.gt_sem_seg.data[0].numpy() > 0
        expected = draw_detection_overlay(
            image, detect_targets(target, target, connectivity), title='scene')
        assert np.array_equal(pictures[connectivity], expected)
    assert not np.array_equal(pictures[8], pictures[4])


def test_detection_settings_come_from_the_evaluator_config_or_metric():
    init_default_scope('mmseg')
    assert detection_settings(None) == dict(match_distance=3.0, connectivity=8)
    configured = [dict(type='IRSTDMetric', connectivity=4, match_distance=2.0),
                  dict(type='IoUMetric')]
    assert detection_settings(configured) == dict(match_distance=2.0, connectivity=4)
    assert detection_settings(Evaluator(configured[0])) == detection_settings(configured)
    with pytest.raises(ValueError, match='connectivity must be 4 or 8'):
        detection_settings(dict(type='IRSTDMetric', connectivity=6))
    with pytest.raises(ValueError, match='different match_distance / connectivity'):
        detection_settings([dict(type='IRSTDMetric'),
                            dict(type='IRSTDMetric', connectivity=4)])
