"""Test-time augmentation that merges IRSTD predictions correctly.

mmseg 1.2.2's ``SegTTAModel`` is wrong for one-channel heads: the segmentor
already stores ``sigmoid(logits)`` as ``seg_logits``, and the TTA model
applies the sigmoid again, so every averaged probability lies in (0.5, 0.73)
and every pixel beats the 0.5 threshold. It also leaves the ``seg_logits`` of
one augmented view (not the merged map) in the output, which is what a
threshold-sweeping metric reads. This model averages the views' target
probabilities and stores that average, so ``IRSTDMetric`` and the pictures
see the merged prediction.
"""
from typing import List

import torch
from mmengine.structures import PixelData
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import SampleList

__all__ = ['IRSTDTTAModel']


@MODELS.register_module()
class IRSTDTTAModel(SegTTAModel):
    """Average the augmented views' probabilities of each image.

    One-channel heads: ``seg_logits`` of every view is a probability map; the
    merged ``seg_logits`` is their mean and the prediction is ``mean >
    decode_head.threshold``. Multi-channel heads: the softmax probabilities
    are averaged and stored as their logarithm (valid logits whose softmax is
    the mean), the prediction is their arg-max. Views come back aligned with
    the original image: the segmentor undoes flips before this merge.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        return [self._merge_views(views) for views in data_samples_list]

    def _merge_views(self, views: SampleList) -> SegDataSample:
        scores = torch.stack([view.seg_logits.data for view in views])
        if self.module.out_channels == 1:
            probability = scores.mean(dim=0)
            merged_logits = probability
            prediction = (probability > self.module.decode_head.threshold).to(
                torch.int64)
        else:
            probability = scores.softmax(dim=1).mean(dim=0)
            merged_logits = probability.clamp_min(torch.finfo(probability.dtype).tiny).log()
            prediction = probability.argmax(dim=0, keepdim=True)
        first = views[0]
        merged = SegDataSample(metainfo=first.metainfo)
        merged.seg_logits = PixelData(data=merged_logits)
        merged.pred_sem_seg = PixelData(data=prediction)
        if 'gt_sem_seg' in first:
            merged.gt_sem_seg = first.gt_sem_seg
        return merged
