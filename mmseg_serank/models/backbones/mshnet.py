"""MSHNet encoder-decoder: a plain U-Net of residual CBAM blocks."""
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_conv_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils import pad_to_multiple

__all__ = ['MSHNet', 'ResidualCBAMBlock']


def _conv_norm(in_channels: int, out_channels: int, kernel_size: int, stride: int,
               norm_cfg: dict, act_cfg: Optional[dict], conv_cfg: Optional[dict]) -> ConvModule:
    """Conv (with bias, as the authors' convs in front of BN) + norm [+ activation]."""
    with warnings.catch_warnings():
        # ConvModule warns about a bias before BN; kept so the authors' weights load.
        warnings.filterwarnings('ignore', message='Unnecessary conv bias')
        return ConvModule(in_channels, out_channels, kernel_size, stride=stride,
                          padding=kernel_size // 2, bias=True, conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg, act_cfg=act_cfg)


class ChannelGate(nn.Module):
    """CBAM channel attention: a shared bottleneck MLP on the avg- and max-pooled map.

    The MLP is two bias-free 1x1 convs without normalisation, so a 1x1 pooled
    map at batch 1 trains fine.
    """

    def __init__(self, channels: int, reduction: int = 16,
                 conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        hidden = channels // reduction
        self.squeeze = build_conv_layer(conv_cfg, channels, hidden, 1, bias=False)
        self.excite = build_conv_layer(conv_cfg, hidden, channels, 1, bias=False)

    def _mlp(self, pooled: Tensor) -> Tensor:
        return self.excite(F.relu(self.squeeze(pooled)))

    def forward(self, x: Tensor) -> Tensor:
        """The per-channel gate in (0, 1), shape (N, C, 1, 1)."""
        avg = F.adaptive_avg_pool2d(x, 1)
        peak = F.adaptive_max_pool2d(x, 1)
        return torch.sigmoid(self._mlp(avg) + self._mlp(peak))


class SpatialGate(nn.Module):
    """CBAM spatial attention: a 7x7 conv on the channel mean and max."""

    def __init__(self, kernel_size: int = 7, conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv = build_conv_layer(conv_cfg, 2, 1, kernel_size,
                                     padding=kernel_size // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """The per-pixel gate in (0, 1), shape (N, 1, H, W)."""
        summary = torch.cat([x.mean(dim=1, keepdim=True),
                             x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(summary))


class ResidualCBAMBlock(nn.Module):
    """Two 3x3 conv-BN layers gated by CBAM (channel, then spatial), plus a skip.

    The skip is the identity, or a 1x1 conv-BN where the width changes (MSHNet
    never strides inside a block: resolution changes between stages).
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict, conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv1 = _conv_norm(in_channels, out_channels, 3, 1, norm_cfg, act_cfg, conv_cfg)
        self.conv2 = _conv_norm(out_channels, out_channels, 3, 1, norm_cfg, None, conv_cfg)
        self.channel_gate = ChannelGate(out_channels, conv_cfg=conv_cfg)
        self.spatial_gate = SpatialGate(conv_cfg=conv_cfg)
        self.shortcut = (None if in_channels == out_channels else _conv_norm(
            in_channels, out_channels, 1, 1, norm_cfg, None, conv_cfg))
        self.out_act = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        skip = x if self.shortcut is None else self.shortcut(x)
        out = self.conv2(self.conv1(x))
        out = out * self.channel_gate(out)
        out = out * self.spatial_gate(out)
        return self.out_act(out + skip)


@MODELS.register_module()
class MSHNet(BaseModule):
    """The MSHNet body (Liu et al., CVPR 2024) up to the decoder features.

    A 1x1 stem, four encoder stages and a middle stage (2x2 max-pooling in
    between) and four decoder stages, each decoder stage taking the concat of
    its encoder skip and the bilinearly (align_corners=True) upsampled deeper
    map. Every stage is a stack of :class:`ResidualCBAMBlock`. The multi-scale
    head (:class:`MSHNetHead`) reads the four decoder maps.

    The input is zero-padded at the bottom and right to a multiple of 16 (the
    four poolings), so any H, W works; the head crops its maps back.

    Args:
        in_channels (int): Image channels (the authors: 3, RGB).
        widths (Sequence[int]): Widths of encoder stages 0-3 and the middle
            stage; decoder stage i has ``widths[i]``.
        num_blocks (Sequence[int]): Blocks of encoder stages 1-3 and the
            middle stage (and of decoder stages 1-3); stage 0 has one block.
        norm_cfg (dict): Norm layers (the authors: BatchNorm2d defaults); use
            ``dict(type='SyncBN')`` on multi-GPU.
        act_cfg (dict): Activation layers.
        conv_cfg (dict, optional): Conv layers.

    Returns (forward):
        tuple[Tensor]: Decoder features (d0, d1, d2, d3) at strides 1, 2, 4, 8
        of the padded input.
    """

    size_divisor = 16

    def __init__(self,
                 in_channels: int = 3,
                 widths: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (2, 2, 2, 2),
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 conv_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if len(widths) != 5 or len(num_blocks) != 4:
            raise ValueError('MSHNet needs 5 widths (encoder 0-3, middle) and 4 num_blocks '
                             f'(encoder 1-3, middle), got {tuple(widths)} and '
                             f'{tuple(num_blocks)}')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        self.out_channels = tuple(widths[:4])
        depths = [1] + list(num_blocks)

        def stage(cin: int, cout: int, depth: int) -> nn.Sequential:
            return nn.Sequential(*[
                ResidualCBAMBlock(cin if i == 0 else cout, cout, norm_cfg, act_cfg, conv_cfg)
                for i in range(depth)])

        self.stem = build_conv_layer(conv_cfg, in_channels, widths[0], 1)
        # encoders[0..3] and, last, the middle stage (stride 16).
        self.encoders = nn.ModuleList(
            stage(widths[max(i - 1, 0)], widths[i], depths[i]) for i in range(5))
        # decoders[i] fuses encoder i with the upsampled decoder i + 1 (middle for i = 3).
        self.decoders = nn.ModuleList(
            stage(widths[i] + widths[i + 1], widths[i], depths[i]) for i in range(4))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stem(pad_to_multiple(x, self.size_divisor))
        skips: List[Tensor] = []
        for index, encoder in enumerate(self.encoders):
            if index > 0:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            x = encoder(x)
            skips.append(x)
        decoded: List[Tensor] = []
        x = skips.pop()
        for index in reversed(range(4)):
            skip = skips[index]
            up = F.interpolate(x, size=skip.shape[-2:], mode='bilinear', align_corners=True)
            x = self.decoders[index](torch.cat([skip, up], dim=1))
            decoded.insert(0, x)
        return tuple(decoded)
