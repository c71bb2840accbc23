"""DNANet backbone: a ResNet-style encoder with dense nested (UNet++-like) skips."""
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_conv_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils import pad_to_multiple

__all__ = ['DNANet']

NUM_LEVELS = 5


def resize_like(x: Tensor, reference: Tensor) -> Tensor:
    """Bilinear resampling of ``x`` to the size of ``reference``.

    DNANet resamples every map with ``align_corners=True`` (x2 up, x0.5 down
    and the x4/x8/x16 pyramid upsampling alike); on sizes that are multiples
    of 16 a scale factor and the partner's size give identical grids, and the
    size taken from a tensor keeps the exported graph free of constants.
    """
    return F.interpolate(x, size=reference.shape[-2:], mode='bilinear', align_corners=True)


class DNANetChannelGate(nn.Module):
    """CBAM channel attention: a shared 1x1 bottleneck on avg- and max-pooled maps.

    The bottleneck has ``channels // 16`` units (at least one is needed:
    DNANet's narrowest width, 16, gives exactly one) and no norm layer, so
    it works for any batch size.
    """

    def __init__(self, channels: int, act_cfg: dict, conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        hidden = channels // 16
        if hidden < 1:
            raise ValueError(f'DNANet channel attention needs >= 16 channels, got {channels}')
        self.squeeze = build_conv_layer(conv_cfg, channels, hidden, 1, bias=False)
        self.activate = build_activation_layer(act_cfg)
        self.expand = build_conv_layer(conv_cfg, hidden, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        def bottleneck(pooled: Tensor) -> Tensor:
            return self.expand(self.activate(self.squeeze(pooled)))

        return torch.sigmoid(bottleneck(F.adaptive_avg_pool2d(x, 1))
                             + bottleneck(F.adaptive_max_pool2d(x, 1)))


class DNANetSpatialGate(nn.Module):
    """CBAM spatial attention: a 7x7 conv over the channel mean and maximum."""

    def __init__(self, conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv = build_conv_layer(conv_cfg, 2, 1, 7, padding=3, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))


class ResCBAMBlock(nn.Module):
    """DNANet's node unit: two 3x3 Conv-BN, channel then spatial attention, residual.

    The convs keep their bias in front of BN as the authors' do, so their
    checkpoints load one-to-one; the shortcut is a 1x1 Conv-BN only where
    the width changes. The activation runs after the residual sum.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict, act_cfg: dict,
                 conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, bias=True)
        with warnings.catch_warnings():
            # ConvModule warns about a bias before BN; it is kept on purpose.
            warnings.filterwarnings('ignore', message='Unnecessary conv bias')
            self.conv1 = ConvModule(in_channels, out_channels, 3, padding=1,
                                    act_cfg=act_cfg, **common)
            self.conv2 = ConvModule(out_channels, out_channels, 3, padding=1, act_cfg=None,
                                    **common)
            self.shortcut = (ConvModule(in_channels, out_channels, 1, act_cfg=None, **common)
                             if in_channels != out_channels else None)
        self.channel_gate = DNANetChannelGate(out_channels, act_cfg, conv_cfg)
        self.spatial_gate = DNANetSpatialGate(conv_cfg)
        self.activate = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.conv2(self.conv1(x))
        out = self.channel_gate(out) * out
        out = self.spatial_gate(out) * out
        return self.activate(out + identity)


def res_cbam_stage(in_channels: int, out_channels: int, num_blocks: int, norm_cfg: dict,
                   act_cfg: dict, conv_cfg: Optional[dict] = None) -> nn.Sequential:
    """``num_blocks`` :class:`ResCBAMBlock` s, the first changing the width."""
    widths = [in_channels] + [out_channels] * num_blocks
    return nn.Sequential(*(ResCBAMBlock(cin, out_channels, norm_cfg, act_cfg, conv_cfg)
                           for cin in widths[:-1]))


@MODELS.register_module()
class DNANet(BaseModule):
    """The DNANet encoder and dense nested interactive module (Li et al., TIP 2023).

    Node (i, j) of the 5-level grid (level i, width ``widths[i]``) is a stage
    of :class:`ResCBAMBlock` s. Column 0 is the encoder (2x2 max-pooling
    between levels). Node (i, j > 0) sees every earlier node of its level, the
    upsampled node (i + 1, j - 1) and, for i > 0, the downsampled node
    (i - 1, j), so shallow and deep features keep exchanging information and
    small targets survive into the deep levels. Level 0 and the encoder's
    first stage have one block; level i > 0 has ``num_blocks[i - 1]``.

    The input is zero-padded at the bottom/right to a multiple of
    ``size_divisor``; the outputs describe the padded input and the head crops
    its maps back. The padding changes what the global poolings of the
    attention and the resampling grids see, so the outputs near the padding
    depend on it: BasicIRSTD's test pads to 32, the authors' own test resizes
    to 256x256 (no padding).

    Returns the eight maps the head uses: the level-0 nodes (0, 1)..(0, 4)
    (deep supervision and the last one for the fusion), then the last node of
    each deeper level, (1, 3), (2, 2), (3, 1), (4, 0) (the feature pyramid).

    Args:
        in_channels (int): Image channels (3, the authors' default; 1 for
            BasicIRSTD's grey port).
        widths (Sequence[int]): Width of each of the 5 levels (the authors'
            ``nb_filter``; default 'three' = (16, 32, 64, 128, 256)).
        num_blocks (Sequence[int]): Blocks per node of levels 1..4 (the
            authors' ``num_blocks``; default 'resnet_18' = (2, 2, 2, 2)).
        norm_cfg (dict): Norm layers; ``dict(type='SyncBN')`` on multi-GPU.
        act_cfg (dict): Activation layers.
        conv_cfg (dict, optional): Conv layers.
        size_divisor (int): Pad H and W to a multiple of it (a multiple of
            16, the four 2x2 poolings); 32 reproduces BasicIRSTD's test.
    """

    def __init__(self,
                 in_channels: int = 3,
                 widths: Sequence[int] = (16, 32, 64, 128, 256),
                 num_blocks: Sequence[int] = (2, 2, 2, 2),
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 conv_cfg: Optional[dict] = None,
                 size_divisor: int = 16,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if size_divisor < 1 or size_divisor % 2**(NUM_LEVELS - 1):
            raise ValueError(f'DNANet size_divisor must be a multiple of '
                             f'{2**(NUM_LEVELS - 1)}, got {size_divisor}')
        self.size_divisor = size_divisor
        if len(widths) != NUM_LEVELS or len(num_blocks) != NUM_LEVELS - 1:
            raise ValueError(f'DNANet needs {NUM_LEVELS} widths and {NUM_LEVELS - 1} '
                             f'num_blocks, got {tuple(widths)} and {tuple(num_blocks)}')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        self.widths = list(widths)
        depth = [1] + list(num_blocks)

        def stage(cin: int, level: int) -> nn.Sequential:
            return res_cbam_stage(cin, widths[level], depth[level], norm_cfg, act_cfg, conv_cfg)

        stage_inputs = [in_channels] + self.widths[:-1]
        self.encoder = nn.ModuleList(stage(stage_inputs[i], i) for i in range(NUM_LEVELS))
        # nested[j - 1][i] is node (i, j): j same-level inputs, the level below
        # (upsampled) and, for i > 0, the level above (downsampled).
        self.nested = nn.ModuleList(
            nn.ModuleList(
                stage(j * widths[i] + widths[i + 1] + (widths[i - 1] if i > 0 else 0), i)
                for i in range(NUM_LEVELS - j))
            for j in range(1, NUM_LEVELS))
        self.out_channels = tuple([widths[0]] * (NUM_LEVELS - 1) + self.widths[1:])

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = pad_to_multiple(x, self.size_divisor)
        # nodes[i] lists the computed nodes (i, 0), (i, 1), ... of level i.
        nodes: Dict[int, List[Tensor]] = {}
        for diagonal in range(NUM_LEVELS):
            # Encoder node (diagonal, 0), then the anti-diagonal i + j = diagonal
            # from deep to shallow: node (i, j) needs (i + 1, j - 1) of this
            # diagonal and (i - 1, j) of the previous one.
            below = x if diagonal == 0 else F.max_pool2d(nodes[diagonal - 1][0], 2, 2)
            nodes[diagonal] = [self.encoder[diagonal](below)]
            for level in reversed(range(diagonal)):
                column = diagonal - level
                inputs = nodes[level] + [resize_like(nodes[level + 1][column - 1],
                                                     nodes[level][0])]
                if level > 0:
                    inputs.append(resize_like(nodes[level - 1][column], nodes[level][0]))
                nodes[level].append(self.nested[column - 1][level](torch.cat(inputs, dim=1)))
        top = nodes[0][1:]
        pyramid = [nodes[level][-1] for level in range(1, NUM_LEVELS)]
        return tuple(top + pyramid)
