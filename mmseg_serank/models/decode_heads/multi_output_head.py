"""Base of IRSTD heads whose network gives several one-channel maps."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.utils import SampleList
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD, check_threshold
from ..utils import crop_to

__all__ = ['MultiOutputHead']


class MultiOutputHead(BaseDecodeHead):
    """A decode head with deep supervision: auxiliary maps and one prediction.

    IRSTD networks (SeRankDet, DNANet, MSHNet, UIU-Net, SCTransNet, ...) train
    several one-channel maps and predict with one of them. A subclass implements
    :meth:`forward_all`, returning every trained map with the prediction last,
    and may override :meth:`forward_prediction` to skip the auxiliary maps at
    test time. Maps may be larger than the input (the backbone padded it at
    the bottom/right); they are cropped, never resampled, to the label size for
    the loss and to the network input size for the prediction.

    Loss keys: the prediction gives ``<loss_name>`` (e.g. ``loss_softiou``),
    auxiliary map k (1-based, in :meth:`forward_all` order) gives
    ``aux<k>_<loss_name>``; ``acc_seg`` is the pixel accuracy of the prediction.

    Args:
        output_weights (Sequence[float]): Loss weight of each map of
            :meth:`forward_all`, in its order (prediction last); a zero weight
            skips that map.
        threshold (float): Probability above which a pixel is target, in
            [0, 1); the one threshold of ``pred_sem_seg`` (see
            :mod:`mmseg_serank.thresholds`).
        use_conv_seg (bool): Keep mmseg's automatic 1x1 ``conv_seg``. Heads
            that port an authors' network set False (the default), so that the
            model holds exactly the authors' parameters.
        init_cfg (dict, optional): mmseg's default (normal init of
            ``conv_seg``) when ``use_conv_seg``, else None (PyTorch's init).
    """

    def __init__(self,
                 in_channels: Union[int, Sequence[int]],
                 channels: int,
                 *,
                 output_weights: Sequence[float],
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 use_conv_seg: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        if use_conv_seg and init_cfg is None:
            init_cfg = dict(type='Normal', std=0.01, override=dict(name='conv_seg'))
        super().__init__(in_channels, channels, num_classes=num_classes,
                         out_channels=out_channels, threshold=threshold,
                         init_cfg=init_cfg, **kwargs)
        if self.out_channels == 1:
            check_threshold(self.threshold, f'{type(self).__name__} threshold '
                            '(model.decode_head.threshold)')
        if not use_conv_seg:
            del self.conv_seg
        self.output_weights = tuple(float(w) for w in output_weights)

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Every trained map (logits), the prediction last."""
        raise NotImplementedError

    def forward_prediction(self, inputs: Sequence[Tensor]) -> Tensor:
        """The prediction's logits (override to skip the auxiliary maps)."""
        return self.forward_all(inputs)[-1]

    def forward(self, inputs: Sequence[Tensor]) -> Union[Tensor, List[Tensor]]:
        """Every map in training mode, the prediction only in eval mode."""
        if self.training:
            return self.forward_all(inputs)
        return self.forward_prediction(inputs)

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: dict) -> dict:
        return self.loss_by_feat(self.forward_all(inputs), batch_data_samples)

    def loss_by_feat(self, seg_logits: Union[Tensor, Sequence[Tensor]],
                     batch_data_samples: SampleList) -> dict:
        """Loss of each map (cropped to the label size) times its weight."""
        outputs = [seg_logits] if isinstance(seg_logits, Tensor) else list(seg_logits)
        num_outputs = len(self.output_weights)
        if len(outputs) not in (1, num_outputs):
            raise ValueError(f'{type(self).__name__}: expected 1 or {num_outputs} '
                             f'output maps, got {len(outputs)}')
        seg_label = self._stack_batch_gt(batch_data_samples)
        label_size = seg_label.shape[-2:]
        outputs = [crop_to(out, label_size, 'label') for out in outputs]
        seg_label = seg_label.squeeze(1)
        weights = self.output_weights if len(outputs) > 1 else self.output_weights[-1:]
        prefixes = [f'aux{k + 1}_' for k in range(len(outputs) - 1)] + ['']
        losses_decode = (self.loss_decode if isinstance(self.loss_decode, nn.ModuleList)
                         else [self.loss_decode])
        losses = dict()
        for output, weight, prefix in zip(outputs, weights, prefixes):
            if weight == 0:
                continue
            for loss_decode in losses_decode:
                name = prefix + loss_decode.loss_name
                value = weight * loss_decode(
                    output, seg_label, weight=None, ignore_index=self.ignore_index)
                losses[name] = losses[name] + value if name in losses else value
        losses['acc_seg'] = self._accuracy(outputs[-1].detach(), seg_label)
        return losses

    def _accuracy(self, logits: Tensor, seg_label: Tensor) -> Tensor:
        if self.out_channels > 1:
            return accuracy(logits, seg_label, ignore_index=self.ignore_index)
        prediction = (logits[:, 0].sigmoid() > self.threshold).long()
        valid = seg_label != self.ignore_index
        correct = (prediction == seg_label) & valid
        return correct.sum().float() * 100.0 / valid.sum().clamp(min=1)

    def predict_by_feat(self, seg_logits: Union[Tensor, Sequence[Tensor]],
                        batch_img_metas: List[dict]) -> Tensor:
        """The prediction's logits at the network input size.

        The size is chosen as in :meth:`BaseDecodeHead.predict_by_feat`; the map
        is cropped to it (it only differs by the backbone's bottom/right
        padding) and resized only if the requested size is larger.
        """
        if not isinstance(seg_logits, Tensor):
            seg_logits = seg_logits[-1]
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        height, width = seg_logits.shape[-2:]
        if size[0] <= height and size[1] <= width:
            return seg_logits[..., :size[0], :size[1]]
        return resize(seg_logits, size=tuple(size), mode='bilinear',
                      align_corners=self.align_corners)
