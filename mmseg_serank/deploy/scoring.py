"""Score an exported model on a config's test set, as tools/test.py scores a checkpoint.

Shared by ``tools/deployment/test_deployed.py`` and ``tools/deployment/quantize.py``
(which scores the FP32 and INT8 files side by side).
"""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from ..evaluation.metrics.irstd_metric import IRSTDMetric
from ..thresholds import config_threshold
from .slide import deployed_probability, slide_settings

__all__ = ['score_deployed']


def score_deployed(cfg: Config, runner) -> dict:
    """Run ``runner`` over the test set and return the evaluator's scores.

    The mask is the probability above the model's one threshold
    (``model.decode_head.threshold``), as the PyTorch model's ``pred_sem_seg``.
    A config in slide mode is run on its windows, as tools/test.py runs it.
    """
    threshold = config_threshold(cfg)
    test_cfg = cfg.model.get('test_cfg') or {}
    dataloader = Runner.build_dataloader(cfg.test_dataloader)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataloader.dataset.metainfo
    for metric in evaluator.metrics:
        if isinstance(metric, IRSTDMetric):
            metric.check_dataset_groups(dataloader.dataset)  # before any image is run
    for batch in dataloader:
        samples = []
        for image, sample in zip(batch['inputs'], batch['data_samples']):
            pixels = image[None].numpy().astype(np.float32)
            settings = slide_settings(test_cfg, pixels.shape[2:])
            probability = deployed_probability(runner, pixels, settings)[0]
            result = SegDataSample(metainfo=sample.metainfo)
            result.gt_sem_seg = sample.gt_sem_seg
            result.seg_logits = PixelData(data=torch.from_numpy(probability))
            result.pred_sem_seg = PixelData(
                data=torch.from_numpy((probability > threshold).astype(np.int64)))
            samples.append(result)
        evaluator.process(samples, batch)
    return evaluator.evaluate(len(dataloader.dataset))
