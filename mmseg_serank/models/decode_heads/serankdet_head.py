"""SeRankDet decoder with LSFF skips and deep supervision."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from torch import Tensor

from ...thresholds import check_threshold
from ..layers import (
    LargeSelectiveFeatureFusion,
    cdc3x3_norm_act,
    conv3x3_norm_act,
    reparameterize_model,
)

NUM_LEVELS = 5


@MODELS.register_module()
class SeRankDetHead(BaseDecodeHead):
    """The SeRankDet decoder: four up stages, a fused map and five side maps.

    Stage j (5..2): bilinear x2 + Conv3x3-norm-act (w[j] -> w[j-1]), LSFF with
    the encoder skip (-> 2 w[j-1]), then Conv3x3, CDC, Conv3x3 (-> w[j-1]).
    ``conv_seg`` (1x1 on d2) gives the fused logits used for prediction; 3x3
    side convs on d2, d3, d4, d5 and e5, bilinearly resized to the d2 size,
    give the deep-supervision maps.

    Maps are produced at the backbone's padded size. Training crops them
    (top-left) to the label size and inference crops them to the network input
    size, both without resampling, because the padding was added at the
    bottom/right only.

    Loss keys: the fused map gives ``<loss_name>`` (e.g. ``loss_softiou``); the
    side maps give ``aux1_<loss_name>`` .. ``aux5_<loss_name>`` for side(d2),
    side(d3), side(d4), side(d5), side(e5). ``acc_seg`` is the pixel accuracy
    of the fused prediction.

    Args:
        in_channels (Sequence[int], optional): Widths of the five encoder
            features. ``None`` in a config: :class:`IRSTDEncoderDecoder` fills
            it from the backbone, so ``base_channels`` alone sets the width.
        channels (int, optional): Width of the first level (d2); must equal
            ``in_channels[0]``. ``None``: filled like ``in_channels``.
        cdc_theta (float): Theta of the decoder's central difference convs.
        deep_supervision_weights (Sequence[float]): Loss weights of the six
            outputs in the reference order [side(d2), side(d3), side(d4),
            side(d5), side(e5), fused]; a zero weight skips that output.
        threshold (float): Probability above which a pixel is target, in
            [0, 1); the one threshold of ``pred_sem_seg``, IRSTDMetric and
            ``tools/infer.py`` (see :mod:`mmseg_serank.thresholds`).
        deploy (bool): Build the inference-only deploy form (see
            :meth:`switch_to_deploy`) to load reparameterised checkpoints.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = (64, 128, 256, 512, 1024),
                 channels: Optional[int] = 64,
                 *,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = 0.5,
                 cdc_theta: float = 0.7,
                 deep_supervision_weights: Sequence[float] = (1.0, ) * 6,
                 dropout_ratio: float = 0.0,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 deploy: bool = False,
                 **kwargs) -> None:
        if in_channels is None or channels is None:
            raise ValueError(
                'SeRankDetHead: in_channels/channels are None; model.type='
                "'IRSTDEncoderDecoder' fills them from the backbone (other segmentors "
                'need them set in model.decode_head)')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        super().__init__(
            list(in_channels), channels, num_classes=num_classes,
            out_channels=out_channels, threshold=threshold,
            dropout_ratio=dropout_ratio, norm_cfg=norm_cfg, act_cfg=act_cfg,
            input_transform='multiple_select', in_index=list(range(NUM_LEVELS)),
            **kwargs)
        if self.out_channels == 1:
            check_threshold(self.threshold, 'SeRankDetHead threshold '
                            '(model.decode_head.threshold)')
        widths = list(in_channels)
        if len(widths) != NUM_LEVELS or widths[0] != channels:
            raise ValueError(f'SeRankDetHead needs {NUM_LEVELS} in_channels starting '
                             f'with channels={channels}, got {widths}')
        if len(deep_supervision_weights) != NUM_LEVELS + 1:
            raise ValueError('deep_supervision_weights needs 6 entries '
                             '[side(d2), side(d3), side(d4), side(d5), side(e5), '
                             f'fused], got {tuple(deep_supervision_weights)}')
        self.deep_supervision_weights = tuple(float(w) for w in deep_supervision_weights)

        levels = range(NUM_LEVELS - 1)
        self.up_blocks = nn.ModuleList(
            conv3x3_norm_act(widths[i + 1], widths[i], norm_cfg, act_cfg)
            for i in levels)
        self.fusions = nn.ModuleList(
            LargeSelectiveFeatureFusion(widths[i], self.conv_cfg) for i in levels)
        self.decoder_blocks = nn.ModuleList(
            nn.Sequential(
                conv3x3_norm_act(2 * widths[i], widths[i], norm_cfg, act_cfg),
                cdc3x3_norm_act(widths[i], widths[i], norm_cfg, act_cfg, cdc_theta),
                conv3x3_norm_act(widths[i], widths[i], norm_cfg, act_cfg))
            for i in levels)
        self.side_convs = nn.ModuleList(
            build_conv_layer(self.conv_cfg, width, self.out_channels, 3, padding=1)
            for width in widths)
        if deploy:
            self.switch_to_deploy()

    def decode(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Decoder features [d2, d3, d4, d5, e5]."""
        encoded = self._transform_inputs(inputs)
        self._check_input_widths(encoded)
        decoded = [encoded[-1]]
        for level in reversed(range(NUM_LEVELS - 1)):
            up = F.interpolate(decoded[0], scale_factor=2, mode='bilinear',
                               align_corners=False)
            up = self.up_blocks[level](up)
            fused = self.fusions[level](encoded[level], up)
            decoded.insert(0, self.decoder_blocks[level](fused))
        return decoded

    def _check_input_widths(self, encoded: Sequence[Tensor]) -> None:
        """Name both settings when the backbone's widths are not ``in_channels``.

        Explicit head widths that disagree with the backbone's (e.g. left from
        an older config) would otherwise surface as a conv shape error.
        """
        widths = [feature.shape[1] for feature in encoded]
        if widths != list(self.in_channels):
            raise ValueError(
                f'SeRankDetHead: the backbone gives features of widths {widths} but '
                f'model.decode_head.in_channels is {list(self.in_channels)}; set '
                f'model.decode_head.in_channels=None and model.decode_head.channels=None '
                f"(model.type='IRSTDEncoderDecoder' takes them from the backbone) or "
                f'in_channels={widths} and channels={widths[0]}')

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[side(d2), side(d3), side(d4), side(d5), side(e5), fused] logits."""
        decoded = self.decode(inputs)
        size = decoded[0].shape[2:]
        sides = [
            resize(conv(feature), size=size, mode='bilinear',
                   align_corners=self.align_corners)
            for conv, feature in zip(self.side_convs, decoded)
        ]
        return sides + [self.cls_seg(decoded[0])]

    def forward(self, inputs: Sequence[Tensor]) -> Union[Tensor, List[Tensor]]:
        """All six maps in training mode, the fused map only in eval mode."""
        if self.training:
            return self.forward_all(inputs)
        return self.cls_seg(self.decode(inputs)[0])

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: dict) -> dict:
        return self.loss_by_feat(self.forward_all(inputs), batch_data_samples)

    def loss_by_feat(self, seg_logits: Union[Tensor, Sequence[Tensor]],
                     batch_data_samples: SampleList) -> dict:
        """Loss of each output (cropped to the label size) times its weight."""
        outputs = [seg_logits] if isinstance(seg_logits, Tensor) else list(seg_logits)
        if len(outputs) not in (1, NUM_LEVELS + 1):
            raise ValueError(f'Expected 1 or 6 output maps, got {len(outputs)}')
        seg_label = self._stack_batch_gt(batch_data_samples)
        label_h, label_w = seg_label.shape[-2:]
        outputs = [self._crop_to(out, (label_h, label_w), 'label') for out in outputs]
        seg_label = seg_label.squeeze(1)
        weights = (self.deep_supervision_weights if len(outputs) > 1 else
                   self.deep_supervision_weights[-1:])
        prefixes = ([f'aux{k + 1}_' for k in range(NUM_LEVELS)] + ['']
                    if len(outputs) > 1 else [''])
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

    @staticmethod
    def _crop_to(logits: Tensor, size: Sequence[int], what: str) -> Tensor:
        height, width = logits.shape[-2:]
        if size[0] > height or size[1] > width:
            raise ValueError(f'SeRankDetHead: the {what} size {tuple(size)} exceeds '
                             f'the output map size {(height, width)}')
        return logits[..., :size[0], :size[1]]

    def predict_by_feat(self, seg_logits: Union[Tensor, Sequence[Tensor]],
                        batch_img_metas: List[dict]) -> Tensor:
        """Fused logits at the network input size.

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

    def switch_to_deploy(self) -> None:
        """Fold CDCs and BNs into plain convs (inference only, irreversible)."""
        reparameterize_model(self)
