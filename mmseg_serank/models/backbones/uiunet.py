"""UIU-Net encoder-decoder: residual U-blocks nested in a U-Net, with IC-A fusion."""
import warnings
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..layers.conv_norm_act import conv3x3_norm_act

__all__ = ['InteractiveCrossAttention', 'ResidualUBlock', 'UIUNet']

# (depth, in, mid, out) of the six encoder stages and of the decoder stages of
# levels 1..5 (the authors' widths; depth 0 marks the pooling-free RSU-4F).
ENCODER_STAGES = ((7, None, 32, 64), (6, 64, 32, 128), (5, 128, 64, 256),
                  (4, 256, 128, 512), (0, 512, 256, 512), (0, 512, 256, 512))
DECODER_STAGES = ((7, 128, 16, 64), (6, 256, 32, 64), (5, 512, 64, 128),
                  (4, 1024, 128, 256), (0, 1024, 256, 512))
# IC-A fusion widths (high, low = out) at levels 2..5; level 1 concatenates.
FUSION_WIDTHS = ((128, 128), (256, 256), (512, 512), (512, 512))
# Norm types whose statistics come from this process's batch alone.
PER_PROCESS_BN = ('BN', 'BN2d')


def resize_like(x: Tensor, reference: Tensor) -> Tensor:
    """Bilinear resize (align_corners=False) to the spatial size of ``reference``.

    The authors resize to the skip's size rather than by 2x: with ceil-mode
    pooling this is what lets the network take any H and W.
    """
    return F.interpolate(x, size=reference.shape[2:], mode='bilinear', align_corners=False)


class ResidualUBlock(BaseModule):
    """A residual U-block (RSU-L): a small U-Net whose output adds its input conv.

    ``depth`` L >= 3 gives L-1 encoder convs with ceil-mode 2x2 max-pooling
    between them, a dilation-2 bottom conv and L-1 decoder convs that resize
    to each skip; ``depth`` 0 gives RSU-4F, which keeps the resolution and
    widens the receptive field with dilations 1, 2, 4 (bottom 8) instead.

    Args:
        depth (int): L of RSU-L (7, 6, 5, 4), or 0 for RSU-4F.
        in_channels (int): Input width.
        mid_channels (int): Width inside the U.
        out_channels (int): Output width (also the residual's).
        norm_cfg (dict): Norm layers.
        act_cfg (dict): Activation layers.
    """

    def __init__(self, depth: int, in_channels: int, mid_channels: int, out_channels: int,
                 norm_cfg: dict, act_cfg: dict) -> None:
        super().__init__()
        self.pooling = depth != 0
        if self.pooling:
            levels = depth - 1
            encoder_dilations = [1] * levels
            bottom_dilation = 2
        else:
            levels = 3
            encoder_dilations = [1, 2, 4]
            bottom_dilation = 8
        decoder_dilations = encoder_dilations  # decoder conv i mirrors encoder conv i

        def conv(cin: int, cout: int, dilation: int) -> ConvModule:
            return conv3x3_norm_act(cin, cout, norm_cfg, act_cfg, dilation=dilation)

        self.in_conv = conv(in_channels, out_channels, 1)
        self.encoder = nn.ModuleList(
            conv(out_channels if i == 0 else mid_channels, mid_channels, dilation)
            for i, dilation in enumerate(encoder_dilations))
        self.bottom = conv(mid_channels, mid_channels, bottom_dilation)
        # decoder[i] produces level i (applied deepest first); level 0 gives the output width.
        self.decoder = nn.ModuleList(
            conv(2 * mid_channels, out_channels if i == 0 else mid_channels, dilation)
            for i, dilation in enumerate(decoder_dilations))

    def forward(self, x: Tensor) -> Tensor:
        residual = self.in_conv(x)
        skips: List[Tensor] = []
        h = residual
        for index, conv in enumerate(self.encoder):
            if self.pooling and index > 0:
                h = F.max_pool2d(h, kernel_size=2, stride=2, ceil_mode=True)
            h = conv(h)
            skips.append(h)
        h = self.bottom(h)
        last = len(self.decoder) - 1
        for index in reversed(range(len(self.decoder))):
            skip = skips[index]
            if self.pooling and index < last:
                h = resize_like(h, skip)
            h = self.decoder[index](torch.cat((h, skip), dim=1))
        return h + residual


class InteractiveCrossAttention(BaseModule):
    """UIU-Net's interactive-cross attention (IC-A) of a decoder level.

    The projected high-level map gives a channel gate (global pooling, 1x1
    bottleneck, sigmoid) that reweights the low-level skip; the gated skip
    gives a spatial gate (channel mean and max, 3x3 conv, sigmoid) that
    reweights the high-level map. One shared 3x3 conv-norm-act (``post``)
    refines both doubled products, which the next stage concatenates.

    The channel gate's BN sees one value per channel and sample, so a
    training batch of one (per BN process) cannot be normalised.

    Args:
        high_channels (int): Width of the upsampled deeper map.
        channels (int): Width of the skip and of both outputs.
        reduction (int): Bottleneck ratio of both gates.
        norm_cfg (dict): Norm layers.
        act_cfg (dict): Activation layers.
    """

    def __init__(self, high_channels: int, channels: int, norm_cfg: dict, act_cfg: dict,
                 reduction: int = 4) -> None:
        super().__init__()
        bottleneck = channels // reduction

        def conv1x1(cin: int, cout: int, act: dict) -> ConvModule:
            with warnings.catch_warnings():
                # The authors' convs keep their bias before BN; so do these.
                warnings.filterwarnings('ignore', message='Unnecessary conv bias')
                return ConvModule(cin, cout, 1, bias=True, norm_cfg=norm_cfg, act_cfg=act)

        self.high_proj = conv1x1(high_channels, channels, act_cfg)
        self.channel_gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            conv1x1(channels, bottleneck, act_cfg),
            conv1x1(bottleneck, channels, dict(type='Sigmoid')))
        self.spatial_reduce = conv1x1(channels, bottleneck, act_cfg)
        self.spatial_conv = nn.Conv2d(2, 1, 3, padding=1, bias=False)
        self.post = conv3x3_norm_act(channels, channels, norm_cfg, act_cfg)

    def forward(self, high: Tensor, low: Tensor) -> Tuple[Tensor, Tensor]:
        high = self.high_proj(high)
        channel_weight = self.channel_gate(high)
        reduced = self.spatial_reduce(low * channel_weight)
        pooled = torch.cat((reduced.mean(dim=1, keepdim=True),
                            reduced.amax(dim=1, keepdim=True)), dim=1)
        spatial_weight = torch.sigmoid(self.spatial_conv(pooled))
        return (self.post(2 * low * channel_weight), self.post(2 * high * spatial_weight))


@MODELS.register_module()
class UIUNet(BaseModule):
    """The UIU-Net encoder and decoder (Wu, Hong and Chanussot, TIP 2023).

    Six encoder stages of residual U-blocks (RSU-7, 6, 5, 4, 4F, 4F) with
    ceil-mode 2x2 max-pooling between them; five decoder stages, each fed
    with the deeper map resized to its skip and, at levels 2..5, fused with
    the skip by :class:`InteractiveCrossAttention` (level 1 concatenates).
    Any H, W >= 1 works without padding (the pooling rounds up and every
    resize targets the skip's size), so the maps come out at the input size.

    Returns the six maps the side outputs read, finest first: the decoder
    stages of levels 1..5 and the deepest encoder stage (widths 64, 64, 128,
    256, 512, 512).

    Args:
        in_channels (int): Image channels (3 for the authors' code, 1 for
            BasicIRSTD's port).
        norm_cfg (dict): Norm layers (the authors': BN, momentum 0.1, eps
            1e-5); ``dict(type='SyncBN')`` on multi-GPU.
        act_cfg (dict): Activation layers.
    """

    out_channels = (64, 64, 128, 256, 512, 512)

    def __init__(self,
                 in_channels: int = 3,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        self.norm_cfg = norm_cfg

        def stages(specs: Sequence[tuple]) -> nn.ModuleList:
            return nn.ModuleList(
                ResidualUBlock(depth, in_channels if cin is None else cin, mid, cout,
                               norm_cfg, act_cfg)
                for depth, cin, mid, cout in specs)

        self.encoder_stages = stages(ENCODER_STAGES)
        self.decoder_stages = stages(DECODER_STAGES)
        # fusions[i] serves level i + 2.
        self.fusions = nn.ModuleList(
            InteractiveCrossAttention(high, low, norm_cfg, act_cfg)
            for high, low in FUSION_WIDTHS)

    def _check_batch(self, x: Tensor) -> None:
        """Stop a one-sample training batch before the IC-A channel gates fail.

        Their BN follows a 1x1 global pooling, so one sample gives one value
        per channel (PyTorch raises deep in the forward pass, and so does the
        authors' code).
        """
        if self.training and self.norm_cfg.get('type') in PER_PROCESS_BN and x.shape[0] == 1:
            raise ValueError(
                'UIU-Net cannot train on a batch of 1: the BatchNorm after the 1x1 global '
                'pooling in each interactive-cross attention (the authors\' fuse*.topdown) '
                'needs more than one value per channel. Train with batch >= 2 per GPU '
                '(train_dataloader.batch_size, with drop_last=True so no last batch of 1 '
                "is left), or with norm_cfg=dict(type='SyncBN') across GPUs whose total "
                'batch is >= 2.')

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self._check_batch(x)
        encoded: List[Tensor] = []
        h = x
        for index, stage in enumerate(self.encoder_stages):
            if index > 0:
                h = F.max_pool2d(h, kernel_size=2, stride=2, ceil_mode=True)
            h = stage(h)
            encoded.append(h)
        decoded = [encoded[-1]]
        for level in reversed(range(len(self.decoder_stages))):
            skip = encoded[level]
            up = resize_like(decoded[0], skip)
            if level > 0:
                low, high = self.fusions[level - 1](up, skip)
                merged = torch.cat((low, high), dim=1)
            else:
                merged = torch.cat((up, skip), dim=1)
            decoded.insert(0, self.decoder_stages[level](merged))
        return tuple(decoded)
