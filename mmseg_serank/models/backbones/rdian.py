"""RDIAN encoder: direction-induced stem, multi-receptive-field branches, CBAM."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn import functional as F

__all__ = ['RDIAN']

# Offsets (row, column) of the -1 tap of the eight direction kernels in the
# authors' order; kernel k + 4 looks the opposite way of kernel k, and the
# network multiplies each such pair.
DIRECTION_OFFSETS = ((-2, -2), (-2, 0), (-2, 2), (0, 2), (2, 2), (2, 0), (2, -2), (0, -2))
DIRECTION_RADIUS = 2
# Kernel sizes of the four multi-receptive-field branches and their depths.
BRANCH_KERNELS = (1, 3, 5, 7)
BRANCH_DEPTHS = (1, 2, 2, 2)


def direction_kernels() -> Tensor:
    """The eight fixed 5x5 difference kernels (8, 1, 5, 5): centre +1, one tap -1.

    Each gives ``x(p) - x(p + offset)``; the product of two opposite ones is
    large where the pixel stands out from both sides along that line, which
    is how RDIAN marks small targets before any learnt layer.
    """
    size = 2 * DIRECTION_RADIUS + 1
    kernels = torch.zeros(len(DIRECTION_OFFSETS), 1, size, size)
    for index, (row, column) in enumerate(DIRECTION_OFFSETS):
        kernels[index, 0, DIRECTION_RADIUS, DIRECTION_RADIUS] = 1.0
        kernels[index, 0, DIRECTION_RADIUS + row, DIRECTION_RADIUS + column] = -1.0
    return kernels


class HalvingResidualBlock(nn.Module):
    """Two k x k conv-norm-act layers (C -> C/2 -> C) plus the identity.

    The sum is not activated (as the authors' block), so the branch output
    can be negative.
    """

    def __init__(self, channels: int, kernel_size: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        hidden = channels // 2
        padding = kernel_size // 2
        self.reduce = ConvModule(channels, hidden, kernel_size, padding=padding,
                                 bias=False, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.expand = ConvModule(hidden, channels, kernel_size, padding=padding,
                                 bias=False, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.expand(self.reduce(x))


def global_average(x: Tensor) -> Tensor:
    """Mean over H and W (N, C), summed in the authors' order in eager mode.

    The authors average with ``avg_pool2d`` over the whole map, whose float32
    sum differs from ``mean``'s by about 1e-6 relative; their trained weights
    (``params/best.pth``) amplify that up to 2e-4 in probability on some SIRST
    images, so eager mode uses their op. Its kernel would be fixed at the
    traced size, so a traced / exported graph takes ``mean`` (any H, W).
    """
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        return x.mean(dim=(2, 3))
    return F.avg_pool2d(x, kernel_size=x.shape[-2:]).flatten(1)


class ChannelSpatialAttention(nn.Module):
    """CBAM: a channel gate from global average and max pooling through one
    shared MLP, then a spatial gate from the channel-wise max and mean.

    The max pools are reductions over H and W, so an export accepts any input
    size; for the average see :func:`global_average`.
    """

    def __init__(self, channels: int, reduction: int, norm_cfg: dict,
                 spatial_kernel: int = 7) -> None:
        super().__init__()
        hidden = channels // reduction
        self.channel_mlp = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels))
        self.spatial_conv = ConvModule(2, 1, spatial_kernel, padding=spatial_kernel // 2,
                                       bias=False, norm_cfg=norm_cfg, act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        channel_logits = (self.channel_mlp(global_average(x))
                          + self.channel_mlp(x.amax(dim=(2, 3))))
        x = x * channel_logits.sigmoid()[:, :, None, None]
        pooled = torch.cat((x.amax(dim=1, keepdim=True), x.mean(dim=1, keepdim=True)), dim=1)
        return x * self.spatial_conv(pooled).sigmoid()


@MODELS.register_module()
class RDIAN(BaseModule):
    """The RDIAN encoder (Sun et al., TGRS 2023).

    Stem: a 3x3 conv-norm-act at full resolution whose output ``s`` is
    re-weighted by the direction attention ``sigmoid(sum_k d_k * d_{k+4})``
    (fixed difference kernels on the input, :func:`direction_kernels`) as
    ``s + s * attention``, then a stride-2 3x3 conv-norm-act. Four residual
    branches with 1x1, 3x3, 5x5 and 7x7 kernels (receptive fields) run on
    the half-resolution map; their concatenation is fused by a 3x3
    conv-norm-act and re-weighted by CBAM.

    Any H, W works without padding: the only stride is 2 with padding 1,
    and the head resizes the half-resolution features to the exact stem size,
    as the authors' network does; padding would change the output at odd
    sizes.

    Returns ``(stem, attended)``: the un-attended stem features (C_s, H, W)
    and the CBAM output (C, ceil(H/2), ceil(W/2)); :class:`RDIANHead` fuses
    them.

    Args:
        in_channels (int): Must be 1: the direction kernels act on one grey
            channel, as in the authors' network.
        stem_channels (int): Width of the full-resolution stem.
        channels (int): Width of the half-resolution features.
        cbam_reduction (int): Channel reduction of the CBAM MLP (the authors
            pass 32, i.e. a hidden width of 1).
        norm_cfg (dict): Norm of the conv layers (authors: BN, momentum 0.1,
            eps 1e-5); use ``dict(type='SyncBN')`` on multi-GPU.
        attention_norm_cfg (dict): Norm of the CBAM spatial conv (authors:
            BN, momentum 0.01, eps 1e-5).
        act_cfg (dict): Activation of the conv layers (authors: LeakyReLU 0.01).
        init_cfg (dict, optional): None gives the authors' initialisation
            (see :meth:`init_weights`).
    """

    def __init__(self,
                 in_channels: int = 1,
                 stem_channels: int = 16,
                 channels: int = 32,
                 cbam_reduction: int = 32,
                 norm_cfg: Optional[dict] = None,
                 attention_norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if in_channels != 1:
            raise ValueError(f'RDIAN: in_channels must be 1 (its direction kernels act on '
                             f'one grey channel), got {in_channels}; feed grey images '
                             "with data_preprocessor=dict(type='IRSTDDataPreProcessor', "
                             'grey=True, ...)')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
        attention_norm_cfg = attention_norm_cfg if attention_norm_cfg is not None else dict(
            type='BN', momentum=0.01, eps=1e-5, requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(
            type='LeakyReLU', negative_slope=0.01)
        # Read by the head config: (stem width, feature width).
        self.out_channels: Sequence[int] = (stem_channels, channels)
        # Fixed, but a parameter (frozen) as in the authors' model: it is in
        # their state dict and their parameter count.
        self.direction_kernels = nn.Parameter(direction_kernels(), requires_grad=False)
        self.stem = ConvModule(in_channels, stem_channels, 3, padding=1, bias=False,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.down = ConvModule(stem_channels, channels, 3, stride=2, padding=1, bias=False,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.branches = nn.ModuleList(
            nn.Sequential(*(HalvingResidualBlock(channels, kernel, norm_cfg, act_cfg)
                            for _ in range(depth)))
            for kernel, depth in zip(BRANCH_KERNELS, BRANCH_DEPTHS))
        self.fuse = ConvModule(len(BRANCH_KERNELS) * channels, channels, 3, padding=1,
                               bias=False, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.attention = ChannelSpatialAttention(channels, cbam_reduction, attention_norm_cfg)

    def direction_attention(self, x: Tensor) -> Tensor:
        """sigmoid of the summed products of opposite direction differences."""
        differences = F.conv2d(x, self.direction_kernels, padding=DIRECTION_RADIUS)
        half = len(DIRECTION_OFFSETS) // 2
        contrast = (differences[:, :half] * differences[:, half:]).sum(dim=1, keepdim=True)
        return contrast.sigmoid()

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        stem = self.stem(x)
        features = self.down(stem + stem * self.direction_attention(x))
        fused = self.fuse(torch.cat([branch(features) for branch in self.branches], dim=1))
        return stem, self.attention(fused)

    def init_weights(self) -> None:
        """The authors' initialisation unless ``init_cfg`` is given.

        Their train.py draws conv weights from N(0, 0.02), BN weights from
        N(1, 0.02) and BN biases from N(0, 1), and leaves the CBAM linears at
        PyTorch's default; ConvModule's own Kaiming init is replaced.
        """
        if self.init_cfg is not None:
            super().init_weights()
            return
        authors_init(self)
        self._is_init = True


def authors_init(module: nn.Module) -> None:
    """RDIAN's train.py initialisation of every conv and BN in ``module``."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, 0.0, 0.02)
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.normal_(layer.bias, 0.0, 1.0)
