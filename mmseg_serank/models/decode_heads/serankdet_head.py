"""SeRankDet decoder with LSFF skips and deep supervision."""
from typing import List, Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from ..layers import (
    LargeSelectiveFeatureFusion,
    cdc3x3_norm_act,
    conv3x3_norm_act,
    reparameterize_model,
)
from .multi_output_head import MultiOutputHead

NUM_LEVELS = 5


@MODELS.register_module()
class SeRankDetHead(MultiOutputHead):
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
        output_weights (Sequence[float]): Loss weights of the six
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
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 cdc_theta: float = 0.7,
                 output_weights: Sequence[float] = (1.0, ) * 6,
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
        if len(output_weights) != NUM_LEVELS + 1:
            raise ValueError('output_weights needs 6 entries '
                             '[side(d2), side(d3), side(d4), side(d5), side(e5), '
                             f'fused], got {tuple(output_weights)}')
        super().__init__(
            list(in_channels), channels, output_weights=output_weights,
            num_classes=num_classes, out_channels=out_channels, threshold=threshold,
            use_conv_seg=True, dropout_ratio=dropout_ratio, norm_cfg=norm_cfg,
            act_cfg=act_cfg, input_transform='multiple_select',
            in_index=list(range(NUM_LEVELS)), **kwargs)
        widths = list(in_channels)
        if len(widths) != NUM_LEVELS or widths[0] != channels:
            raise ValueError(f'SeRankDetHead needs {NUM_LEVELS} in_channels starting '
                             f'with channels={channels}, got {widths}')

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

    def forward_prediction(self, inputs: Sequence[Tensor]) -> Tensor:
        """The fused map only (the side convs are skipped at test time)."""
        return self.cls_seg(self.decode(inputs)[0])

    def switch_to_deploy(self) -> None:
        """Fold CDCs and BNs into plain convs (inference only, irreversible)."""
        reparameterize_model(self)
