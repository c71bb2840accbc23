"""SCTransNet encoder: a residual U-Net encoder whose skips pass a cross transformer.

Yuan et al., "SCTransNet: Spatial-Channel Cross Transformer Network for
Infrared Small Target Detection", IEEE TGRS 2024. The four skip features are
cut into patches of one common grid (patch sizes 16, 8, 4, 2 at strides 1, 2,
4, 8), mixed by spatial-channel cross transformer blocks (SCTB) and put back
at their own resolution; the decoder (:class:`SCTransNetHead`) upsamples from
the bottleneck through them.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor

from ..utils import pad_to_multiple

__all__ = ['SCTransNet', 'init_like_authors']

NUM_LEVELS = 4


def init_like_authors(module: nn.Module) -> None:
    """The authors' ``weights_init_kaiming`` on every layer of ``module``.

    He-normal (fan_in, ReLU gain) weights for all convs and linears and
    N(1, 0.02) BN weights with zero BN bias; biases of convs and linears and
    the LayerNorms keep PyTorch's initialisation. Applied after mmengine's
    init, which would otherwise leave ConvModule's fan_out init in place.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight, a=0, mode='fan_in')
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of each pixel of an N x C x H x W map."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ResidualBlock(BaseModule):
    """Two 3x3 conv-norm layers with an identity (or 1x1 conv-norm) shortcut.

    The activation (LeakyReLU in the paper's encoder) follows the first layer
    and the sum. Convs keep their bias before the norm, as the authors' do,
    so that the parameter set (and their checkpoints) match.
    """

    def __init__(self, in_channels: int, out_channels: int, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        self.conv1 = ConvModule(in_channels, out_channels, 3, padding=1, bias=True,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvModule(out_channels, out_channels, 3, padding=1, bias=True,
                                norm_cfg=norm_cfg, act_cfg=None)
        self.shortcut = (
            ConvModule(in_channels, out_channels, 1, bias=True, norm_cfg=norm_cfg,
                       act_cfg=None) if in_channels != out_channels else nn.Identity())
        self.activate = build_activation_layer(act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.activate(self.conv2(self.conv1(x)) + self.shortcut(x))


class PatchEmbedding(nn.Module):
    """Non-overlapping patch projection of one skip level to the common grid.

    ``pos_embed`` and ``dropout`` are built as in the authors' network but
    never applied there either: the attention is over channels and convs
    carry the position. They are kept so that the parameters (and therefore
    the authors' checkpoints and parameter count) match, and ``pos_embed``
    does not limit the input size.
    """

    def __init__(self, channels: int, patch_size: int, num_patches: int,
                 dropout: float) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, channels, patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, channels))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)


class SpatialChannelCrossAttention(nn.Module):
    """Spatial-embedded single-head channel-cross attention (SSCA).

    Each level's channels query the concatenated channels of all levels
    (keys and values). Queries, keys and values are a 1x1 conv followed by a
    3x3 (grouped / depthwise) conv, which embeds local spatial context; the
    channel-to-channel affinities are cosine similarities over the patch grid,
    instance-normalised before the softmax.

    ``unused_scales`` are 16 learnable scalars the authors create but never
    use; they are kept for checkpoint and parameter-count compatibility.
    """

    def __init__(self, channels: Sequence[int], kv_channels: int) -> None:
        super().__init__()
        self.kv_channels = kv_channels
        self.query_projs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, c, 1, bias=False),
                nn.Conv2d(c, c, 3, padding=1, groups=c // 2, bias=False))
            for c in channels)
        self.key_proj = self._depthwise_projection(kv_channels)
        self.value_proj = self._depthwise_projection(kv_channels)
        self.out_projs = nn.ModuleList(nn.Conv2d(c, c, 1, bias=False) for c in channels)
        self.unused_scales = nn.ParameterDict({
            f'q{q}_attn{a}': nn.Parameter(torch.tensor([0.2]))
            for q in range(1, NUM_LEVELS + 1) for a in range(1, NUM_LEVELS + 1)
        })

    @staticmethod
    def _depthwise_projection(channels: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False))

    def forward(self, levels: Sequence[Tensor], stacked: Tensor) -> List[Tensor]:
        # N x C x (h w): one row per channel, unit length over the patch grid.
        keys = F.normalize(self.key_proj(stacked).flatten(2), dim=-1)
        values = self.value_proj(stacked).flatten(2)
        scale = 1.0 / math.sqrt(self.kv_channels)
        outputs = []
        for level, query_proj, out_proj in zip(levels, self.query_projs, self.out_projs):
            query = F.normalize(query_proj(level).flatten(2), dim=-1)
            affinity = torch.matmul(query, keys.transpose(1, 2)) * scale
            # One "instance" per sample: normalise over all C_i x C_kv affinities.
            affinity = F.instance_norm(affinity.unsqueeze(1)).squeeze(1)
            mixed = torch.matmul(affinity.softmax(dim=-1), values)
            outputs.append(out_proj(mixed.reshape(level.shape)))
        return outputs


class EfficientChannelAttention(nn.Module):
    """ECA: channel gates from a 1D conv over the globally pooled channels."""

    def __init__(self, kernel_size: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pooled = x.mean(dim=(2, 3)).unsqueeze(1)  # N x 1 x C
        gates = self.conv(pooled).sigmoid().transpose(1, 2).unsqueeze(-1)
        return x * gates


class ComplementaryFeedForward(nn.Module):
    """Complementary feed-forward network (CFN).

    A 1x1 expansion split in two halves, 3x3 and 5x5 depthwise convs with
    ReLU on each (spatial context at two scales), a 1x1 reduction and ECA
    channel gating (the complementary channel branch).
    """

    def __init__(self, channels: int, expansion: float) -> None:
        super().__init__()
        hidden = int(channels * expansion)
        self.expand = nn.Conv2d(channels, 2 * hidden, 1, bias=False)
        relu = dict(type='ReLU')
        self.dw3 = ConvModule(hidden, hidden, 3, padding=1, groups=hidden, bias=False,
                              act_cfg=relu)
        self.dw5 = ConvModule(hidden, hidden, 5, padding=2, groups=hidden, bias=False,
                              act_cfg=relu)
        self.reduce = nn.Conv2d(2 * hidden, channels, 1, bias=False)
        self.eca = EfficientChannelAttention()

    def forward(self, x: Tensor) -> Tensor:
        half3, half5 = self.expand(x).chunk(2, dim=1)
        x = torch.cat([self.dw3(half3), self.dw5(half5)], dim=1)
        return self.eca(self.reduce(x))


class SpatialChannelCrossTransformerBlock(nn.Module):
    """SCTB: pre-norm SSCA and CFN, each with a residual, on all four levels."""

    def __init__(self, channels: Sequence[int], ffn_expansion: float) -> None:
        super().__init__()
        kv_channels = sum(channels)
        self.attn_norms = nn.ModuleList(ChannelLayerNorm(c) for c in channels)
        self.kv_norm = ChannelLayerNorm(kv_channels)
        self.attention = SpatialChannelCrossAttention(channels, kv_channels)
        self.ffn_norms = nn.ModuleList(ChannelLayerNorm(c) for c in channels)
        self.ffns = nn.ModuleList(
            ComplementaryFeedForward(c, ffn_expansion) for c in channels)

    def forward(self, levels: List[Tensor]) -> List[Tensor]:
        stacked = self.kv_norm(torch.cat(levels, dim=1))
        normed = [norm(x) for norm, x in zip(self.attn_norms, levels)]
        attended = self.attention(normed, stacked)
        levels = [x + a for x, a in zip(levels, attended)]
        return [x + ffn(norm(x)) for x, norm, ffn in zip(levels, self.ffn_norms, self.ffns)]


@MODELS.register_module()
class SCTransNet(BaseModule):
    """The SCTransNet encoder (Yuan et al., TGRS 2024) with its cross transformer.

    Five residual blocks (widths ``base``, 2, 4, 8, 8 x ``base``) with 2x2
    max-pooling between them give the skips e1..e4 and the bottleneck e5.
    Each skip is projected by a ``patch_sizes[i]`` patch conv onto one grid
    (1/16 of the input), the four levels pass ``num_layers`` SCTBs and a final
    LayerNorm, and each is brought back by bilinear upsampling and a 1x1
    conv-norm-ReLU. As in the authors' network the original skip is added
    twice (once inside the transformer module, once by the network).

    The input is zero-padded at the bottom/right to a multiple of
    ``size_divisor`` (16: what the pooling and the patch grid need), so any
    H, W work; the features describe the padded input and the decode head
    crops its maps back. The padded area takes part in the global poolings
    and the attention's normalisation, so the authors' test.py (which pads to
    32) is reproduced exactly with ``size_divisor=32``.

    Args:
        in_channels (int): Image channels (1: the authors' grey input).
        base_channels (int): Width of the first level.
        patch_sizes (Sequence[int]): Patch size per skip level; with the
            pooling strides they must give one common grid.
        num_layers (int): Number of SCTBs.
        ffn_expansion (float): Hidden width factor of the CFN.
        img_size (int): Training size the unused positional embeddings are
            sized for (does not restrict the input).
        embed_dropout (float): Rate of the (unused) embedding dropouts.
        size_divisor (int, optional): Pad H, W to a multiple of it; a
            multiple of 16. None: 16.
        norm_cfg (dict): Norm of the conv layers; SyncBN on multi-GPU.
        act_cfg (dict): Activation of the residual encoder blocks.
        init_cfg (dict, optional): None: the authors' initialisation
            (:func:`init_like_authors`); e.g. a Pretrained init otherwise.
    """

    def __init__(self,
                 in_channels: int = 1,
                 base_channels: int = 32,
                 patch_sizes: Sequence[int] = (16, 8, 4, 2),
                 num_layers: int = 4,
                 ffn_expansion: float = 2.66,
                 img_size: int = 256,
                 embed_dropout: float = 0.1,
                 size_divisor: Optional[int] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if len(patch_sizes) != NUM_LEVELS:
            raise ValueError(f'patch_sizes needs {NUM_LEVELS} entries, got {patch_sizes}')
        grid = {patch << level for level, patch in enumerate(patch_sizes)}
        if len(grid) != 1:
            raise ValueError(f'patch_sizes {tuple(patch_sizes)} do not give one patch grid '
                             'at strides 1, 2, 4, 8 (patch_sizes[i] * 2**i must be equal)')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='LeakyReLU',
                                                           negative_slope=0.01)
        # Both the pooling (four 2x2 steps) and the patch grid fix the divisor.
        needed = max(grid.pop(), 2**NUM_LEVELS)
        if size_divisor is not None and size_divisor % needed:
            raise ValueError(f'size_divisor={size_divisor} must be a multiple of {needed} '
                             '(four 2x2 poolings and the patch grid)')
        self.size_divisor = size_divisor or needed
        widths = [base_channels * 2**i for i in range(NUM_LEVELS)]
        # Read by the decode head's config (skips e1'..e4', then the bottleneck).
        self.out_channels = tuple(widths) + (widths[-1], )
        stage_inputs = [in_channels] + list(self.out_channels[:-1])
        self.encoder_blocks = nn.ModuleList(
            ResidualBlock(cin, cout, norm_cfg, act_cfg)
            for cin, cout in zip(stage_inputs, self.out_channels))
        self.patch_sizes = tuple(patch_sizes)
        self.patch_embeds = nn.ModuleList(
            PatchEmbedding(width, patch, ((img_size >> level) // patch)**2, embed_dropout)
            for level, (width, patch) in enumerate(zip(widths, patch_sizes)))
        self.layers = nn.ModuleList(
            SpatialChannelCrossTransformerBlock(widths, ffn_expansion)
            for _ in range(num_layers))
        self.out_norms = nn.ModuleList(ChannelLayerNorm(w) for w in widths)
        self.reconstructs = nn.ModuleList(
            ConvModule(w, w, 1, bias=True, norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))
            for w in widths)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is None:
            init_like_authors(self)

    def cross_transform(self, skips: Sequence[Tensor]) -> List[Tensor]:
        """The four skips after the cross transformer (before adding them back)."""
        levels = [embed(x) for embed, x in zip(self.patch_embeds, skips)]
        for layer in self.layers:
            levels = layer(levels)
        return [
            reconstruct(F.interpolate(norm(x), scale_factor=float(patch), mode='bilinear',
                                      align_corners=False))
            for x, norm, reconstruct, patch in zip(levels, self.out_norms, self.reconstructs,
                                                   self.patch_sizes)
        ]

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """[e1', e2', e3', e4', e5]: enhanced skips (full to 1/8) and the bottleneck."""
        x = pad_to_multiple(x, self.size_divisor)
        encoded = []
        for index, block in enumerate(self.encoder_blocks):
            if index > 0:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            x = block(x)
            encoded.append(x)
        skips = encoded[:NUM_LEVELS]
        # The authors add each skip twice: (transformer output + skip) + skip.
        enhanced = [out + skip + skip for out, skip in zip(self.cross_transform(skips), skips)]
        return tuple(enhanced) + (encoded[-1], )
