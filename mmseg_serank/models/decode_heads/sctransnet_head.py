"""SCTransNet decoder: channel-gated skip fusion and five-way deep supervision."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from ..backbones.sctransnet import init_like_authors
from .multi_output_head import MultiOutputHead

__all__ = ['SCTransNetHead']

NUM_SKIPS = 4


class CrossChannelGate(nn.Module):
    """CCA: gates the skip's channels from both inputs' global averages.

    The gate is sigmoid of the mean of two linear maps (of the pooled skip and
    of the pooled upsampled feature), so it needs no norm on the 1x1 pooled
    vectors and any batch size trains.
    """

    def __init__(self, up_channels: int, skip_channels: int) -> None:
        super().__init__()
        self.skip_fc = nn.Linear(skip_channels, skip_channels)
        self.up_fc = nn.Linear(up_channels, skip_channels)

    def forward(self, up: Tensor, skip: Tensor) -> Tensor:
        logits = (self.skip_fc(skip.mean(dim=(2, 3))) + self.up_fc(up.mean(dim=(2, 3)))) / 2.0
        return F.relu(skip * logits.sigmoid()[..., None, None])


class UpBlock(nn.Module):
    """Nearest x2 upsampling, CCA on the skip, concat and two conv-norm-act."""

    def __init__(self, up_channels: int, skip_channels: int, out_channels: int,
                 conv_cfg: Optional[dict], norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__()
        self.gate = CrossChannelGate(up_channels, skip_channels)
        self.convs = nn.Sequential(
            ConvModule(up_channels + skip_channels, out_channels, 3, padding=1, bias=True,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvModule(out_channels, out_channels, 3, padding=1, bias=True,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))

    def forward(self, deep: Tensor, skip: Tensor) -> Tensor:
        up = F.interpolate(deep, scale_factor=2.0, mode='nearest')
        return self.convs(torch.cat([self.gate(up, skip), up], dim=1))


@MODELS.register_module()
class SCTransNetHead(MultiOutputHead):
    """The SCTransNet decoder (Yuan et al., TGRS 2024).

    Four :class:`UpBlock` stages go from the bottleneck e5 up through the
    enhanced skips e4'..e1' (d4, d3, d2, d1). ``conv_seg`` (the authors'
    ``outc``, 1x1 on d1) gives the prediction. For deep supervision 1x1 side
    convs on e5, d4, d3, d2 are upsampled (bilinear, align_corners=True) to
    full size and, with the prediction, fused by a 1x1 conv over the five
    maps. Like the authors' test mode, prediction uses ``conv_seg`` only, not
    the fused map.

    Maps come out at the backbone's padded size; MultiOutputHead crops them.

    Loss keys, in the authors' training order: ``aux1_<loss>`` side(e5),
    ``aux2_`` side(d4), ``aux3_`` side(d3), ``aux4_`` side(d2), ``aux5_`` the
    fused map and ``<loss>`` the prediction (the authors sum all six BCE
    losses with weight 1).

    Args:
        in_channels (Sequence[int]): Widths of [e1', e2', e3', e4', e5].
        channels (int): Width of d1 (the authors' base width).
        output_weights (Sequence[float]): Loss weights of the six
            maps in the order above; a zero weight skips that map.
        threshold (float): Probability above which a pixel is target.
        init_cfg (dict, optional): None: the authors' initialisation
            (:func:`init_like_authors`); e.g. a Pretrained init otherwise.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (32, 64, 128, 256, 256),
                 channels: int = 32,
                 *,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 output_weights: Sequence[float] = (1.0, ) * 6,
                 dropout_ratio: float = 0.0,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        if len(output_weights) != NUM_SKIPS + 2:
            raise ValueError('output_weights needs 6 entries [side(e5), side(d4), '
                             'side(d3), side(d2), fused, prediction], got '
                             f'{tuple(output_weights)}')
        widths = list(in_channels)
        if len(widths) != NUM_SKIPS + 1:
            raise ValueError(f'SCTransNetHead needs {NUM_SKIPS + 1} in_channels '
                             f'[e1\', e2\', e3\', e4\', e5], got {widths}')
        super().__init__(
            widths, channels, output_weights=output_weights,
            num_classes=num_classes, out_channels=out_channels, threshold=threshold,
            use_conv_seg=True, dropout_ratio=dropout_ratio, norm_cfg=norm_cfg,
            act_cfg=act_cfg, input_transform='multiple_select',
            in_index=list(range(NUM_SKIPS + 1)), init_cfg=init_cfg, **kwargs)
        # MultiOutputHead gives conv_seg mmseg's normal init when init_cfg is None.
        self.init_like_authors = init_cfg is None
        # Output width of the stage at skip level i: the next shallower skip's
        # width, and ``channels`` at full resolution.
        stage_widths = [channels] + widths[:NUM_SKIPS - 1]
        deep_widths = stage_widths[1:] + [widths[NUM_SKIPS]]
        self.up_blocks = nn.ModuleList(
            UpBlock(deep, skip, out, self.conv_cfg, norm_cfg, act_cfg)
            for deep, skip, out in zip(deep_widths, widths[:NUM_SKIPS], stage_widths))
        # Side convs on d2, d3, d4 and e5 (resolutions 1/2 .. 1/16).
        self.side_convs = nn.ModuleList(
            nn.Conv2d(width, self.out_channels, 1) for width in deep_widths)
        self.fuse_conv = nn.Conv2d((NUM_SKIPS + 1) * self.out_channels, self.out_channels, 1)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_like_authors:
            init_like_authors(self)

    def decode(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Decoder features [d1, d2, d3, d4, e5]."""
        features = self._transform_inputs(inputs)
        decoded = [features[NUM_SKIPS]]
        for level in reversed(range(NUM_SKIPS)):
            decoded.insert(0, self.up_blocks[level](decoded[0], features[level]))
        return decoded

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[side(e5), side(d4), side(d3), side(d2), fused, prediction] logits."""
        decoded = self.decode(inputs)
        prediction = self.cls_seg(decoded[0])
        size = prediction.shape[2:]
        sides = [
            F.interpolate(conv(feature), size=size, mode='bilinear', align_corners=True)
            for conv, feature in zip(self.side_convs, decoded[1:])
        ]
        fused = self.fuse_conv(torch.cat(sides + [prediction], dim=1))
        return sides[::-1] + [fused, prediction]

    def forward_prediction(self, inputs: Sequence[Tensor]) -> Tensor:
        """The prediction only (the authors' test mode skips the side maps)."""
        return self.cls_seg(self.decode(inputs)[0])
