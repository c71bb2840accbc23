"""One threshold: the head's drives pred_sem_seg, IRSTDMetric, the pictures and
infer.py; every place that sets one checks it is in [0, 1)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.engine.hooks import IRSTDVisualizationHook
from mmseg_serank.evaluation.metrics import IRSTDMetric
from mmseg_serank.thresholds import check_threshold, config_threshold, set_config_threshold
from mmseg_serank.visualization import IRSTDLocalVisualizer

from .test_inference import REPO_ROOT
from tiny_configs import set_serankdet_width

BASE_MODEL = REPO_ROOT / 'configs' / '_base_' / 'models' / 'serankdet.py'


def tiny_segmentor(**head):
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_MODEL)
    set_serankdet_width(cfg.model, 4)
    cfg.model.decode_head.update(head)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def predicted_samples(model, count: int = 2):
    """The segmentor's test outputs for random images with a small target each."""
    generator = torch.Generator().manual_seed(1)
    inputs, samples = [], []
    for _ in range(count):
        target = torch.zeros(1, 32, 40, dtype=torch.int64)
        target[0, 10:13, 20:23] = 1
        sample = SegDataSample(gt_sem_seg=PixelData(data=target))
        sample.set_metainfo(dict(img_shape=(32, 40), ori_shape=(32, 40), pad_shape=(32, 40)))
        inputs.append(torch.randint(0, 255, (3, 32, 40), generator=generator).float())
        samples.append(sample)
    with torch.no_grad():
        outputs = model.test_step(dict(inputs=inputs, data_samples=samples))
    return [output.to_dict() for output in outputs]


def scores(samples, **kwargs):
    metric = IRSTDMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


@pytest.mark.parametrize('value', [1.5, -1, 1.0, math.nan, math.inf, '0.5', True])
def test_out_of_range_thresholds_are_refused_everywhere(value):
    with pytest.raises(ValueError, match=r'must be a probability in \[0, 1\)'):
        check_threshold(value)
    with pytest.raises(ValueError, match='decode_head.threshold'):
        tiny_segmentor(threshold=value)
    cfg = Config.fromfile(BASE_MODEL)
    with pytest.raises(ValueError, match=r'--threshold must be a probability in \[0, 1\)'):
        set_config_threshold(cfg, value)
    cfg.model.decode_head.threshold = value
    with pytest.raises(ValueError, match=r'decode_head.threshold must be a probability'):
        config_threshold(cfg)
    assert check_threshold(0) == 0.0 and check_threshold(0.999) == 0.999


def test_metric_scores_the_models_prediction_at_the_heads_threshold():
    model = tiny_segmentor(threshold=0.3)
    samples = predicted_samples(model)
    by_default = scores(samples)
    for sample in samples:  # what the head's threshold gives, from the probabilities
        assert torch.equal(sample['pred_sem_seg']['data'].bool(),
                           sample['seg_logits']['data'] > 0.3)
    # Without the prediction the metric would threshold at the default 0.5.
    bare = [{k: v for k, v in sample.items() if k != 'pred_sem_seg'} for sample in samples]
    assert by_default != scores(bare)


def test_hook_draws_the_models_prediction(tmp_path):
    model = tiny_segmentor(threshold=0.3)
    samples = predicted_samples(model, count=1)
    image = tmp_path / 'frame.png'
    import cv2
    cv2.imwrite(str(image), np.zeros((32, 40), np.uint8))
    samples[0]['img_path'] = str(image)
    sample = SegDataSample(**{k: PixelData(**v) for k, v in samples[0].items()
                              if k in ('seg_logits', 'pred_sem_seg', 'gt_sem_seg')})
    sample.set_metainfo(dict(img_path=str(image)))
    runner = SimpleNamespace(iter=0)
    IRSTDLocalVisualizer.get_instance('threshold_hook', save_dir=str(tmp_path))
    IRSTDVisualizationHook(draw=True, out_dir=str(tmp_path / 'vis')).after_test_iter(
        runner, 0, {}, [sample])
    assert (tmp_path / 'vis' / 'frame.png').exists()
