"""MSHNet multi-scale head: one 1x1 map per decoder scale and a fused prediction."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ..utils import crop_to
from .multi_output_head import MultiOutputHead

__all__ = ['MSHNetHead']

NUM_SCALES = 4


@MODELS.register_module()
class MSHNetHead(MultiOutputHead):
    """The MSHNet head (Liu et al., CVPR 2024).

    A 1x1 conv on each decoder map d0..d3 (strides 1, 2, 4, 8) gives a logit
    map per scale; they are upsampled bilinearly (align_corners=True) to the
    d0 size, stacked and fused by a 3x3 conv into the prediction (the authors'
    ``final``, their test output).

    Deep supervision as the authors train it: every map is scored at its own
    scale against the label max-pooled to that scale (2x2 pooling per
    halving), so a one-pixel target stays a target on the coarse maps. The
    loss keys are ``aux1_<loss_name>`` .. ``aux4_<loss_name>`` for the maps of
    d0..d3 and ``<loss_name>`` for the fused prediction; the authors average
    the five (``output_weights`` 0.2 each).

    Warm-up: while a loss of ``loss_decode`` reports ``in_warm_up()`` (see
    :class:`SLSIoULoss`), only the d0 map is computed and trained, with weight
    1, as the authors' model with ``warm_flag=False`` (key
    ``aux1_<loss_name>``; ``acc_seg`` then scores that map). Evaluation always
    predicts with the fused map.

    Maps come out at the backbone's padded size (bottom/right padding) and
    are cropped, never resampled, to the label or input size.

    Args:
        in_channels (Sequence[int], optional): Widths of d0..d3. ``None``:
            filled from the backbone by ``IRSTDEncoderDecoder``.
        channels (int, optional): Width of d0. ``None``: as ``in_channels``.
        output_weights (Sequence[float]): Loss weights of the maps of d0..d3
            and of the fused prediction, in that order.
    """

    # Stride of each map of :meth:`forward_all` relative to the input.
    strides: Tuple[int, ...] = (1, 2, 4, 8, 1)

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = (16, 32, 64, 128),
                 channels: Optional[int] = 16,
                 *,
                 output_weights: Sequence[float] = (0.2, ) * (NUM_SCALES + 1),
                 **kwargs) -> None:
        if in_channels is None or channels is None:
            raise ValueError(
                'MSHNetHead: in_channels/channels are None; model.type='
                "'IRSTDEncoderDecoder' fills them from the backbone (other segmentors "
                'need them set in model.decode_head)')
        if len(in_channels) != NUM_SCALES or len(output_weights) != NUM_SCALES + 1:
            raise ValueError(f'MSHNetHead needs {NUM_SCALES} in_channels (d0..d3) and '
                             f'{NUM_SCALES + 1} output_weights (d0..d3, fused), got '
                             f'{tuple(in_channels)} and {tuple(output_weights)}')
        super().__init__(list(in_channels), channels, output_weights=output_weights,
                         input_transform='multiple_select',
                         in_index=list(range(NUM_SCALES)), **kwargs)
        self.scale_convs = nn.ModuleList(
            build_conv_layer(self.conv_cfg, width, self.out_channels, 1)
            for width in in_channels)
        self.fusion_conv = build_conv_layer(self.conv_cfg, NUM_SCALES * self.out_channels,
                                            self.out_channels, 3, padding=1)

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[map(d0), map(d1), map(d2), map(d3), fused] logits, each at its scale."""
        features = self._transform_inputs(inputs)
        maps = [conv(feature) for conv, feature in zip(self.scale_convs, features)]
        size = maps[0].shape[-2:]
        stacked = [maps[0]] + [
            F.interpolate(m, size=size, mode='bilinear', align_corners=True)
            for m in maps[1:]]
        return maps + [self.fusion_conv(torch.cat(stacked, dim=1))]

    def _loss_modules(self) -> List[nn.Module]:
        return (list(self.loss_decode) if isinstance(self.loss_decode, nn.ModuleList)
                else [self.loss_decode])

    def in_warm_up(self) -> bool:
        """Whether a loss asks for the authors' warm-up (d0 map only)."""
        return any(getattr(loss, 'in_warm_up', lambda: False)()
                   for loss in self._loss_modules())

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: dict) -> dict:
        if self.in_warm_up():
            d0 = self._transform_inputs(inputs)[0]
            return self._scored([self.scale_convs[0](d0)], (1, ), (1.0, ), ('aux1_', ),
                                batch_data_samples)
        return self.loss_by_feat(self.forward_all(inputs), batch_data_samples)

    def loss_by_feat(self, seg_logits: Union[Tensor, Sequence[Tensor]],
                     batch_data_samples: SampleList) -> dict:
        """Loss of every map of :meth:`forward_all` at its own scale (or of the
        fused prediction alone, as :class:`MultiOutputHead` allows)."""
        if isinstance(seg_logits, Tensor) or len(seg_logits) == 1:
            prediction = seg_logits if isinstance(seg_logits, Tensor) else seg_logits[0]
            return self._scored([prediction], (1, ), self.output_weights[-1:], ('', ),
                                batch_data_samples)
        if len(seg_logits) != len(self.strides):
            raise ValueError(f'MSHNetHead: expected the fused map or the '
                             f'{len(self.strides)} maps of forward_all (d0..d3, fused), '
                             f'got {len(seg_logits)}')
        prefixes = tuple(f'aux{k + 1}_' for k in range(NUM_SCALES)) + ('', )
        return self._scored(seg_logits, self.strides, self.output_weights, prefixes,
                            batch_data_samples)

    def _scored(self, outputs: Sequence[Tensor], strides: Sequence[int],
                weights: Sequence[float], prefixes: Sequence[str],
                batch_data_samples: SampleList) -> dict:
        """Weighted losses of ``outputs`` (the last is scored by ``acc_seg``)."""
        seg_label = self._stack_batch_gt(batch_data_samples)
        labels = {}
        losses = dict()
        for output, stride, weight, prefix in zip(outputs, strides, weights, prefixes):
            if stride not in labels:
                labels[stride] = label_at_stride(seg_label, stride)
            label = labels[stride]
            output = crop_to(output, label.shape[-2:], 'label')
            if weight == 0:
                continue
            for loss_decode in self._loss_modules():
                name = prefix + loss_decode.loss_name
                value = weight * loss_decode(
                    output, label, weight=None, ignore_index=self.ignore_index)
                losses[name] = losses[name] + value if name in losses else value
        losses['acc_seg'] = self._accuracy(output.detach(), labels[strides[-1]])
        return losses


def label_at_stride(seg_label: Tensor, stride: int) -> Tensor:
    """(N, H, W) label max-pooled by ``stride`` (the authors' repeated 2x2 pooling).

    ``ceil_mode`` keeps a partial last window, so the label never outgrows the
    map of a padded input (equal to the authors' where H, W divide by stride).
    """
    label = seg_label.squeeze(1)
    if stride == 1:
        return label
    pooled = F.max_pool2d(label[:, None].float(), stride, stride, ceil_mode=True)
    return pooled[:, 0].to(label.dtype)
