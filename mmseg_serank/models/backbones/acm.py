"""ACM-U-Net encoder-decoder: a small ResNet U-Net fused by asymmetric contextual modulation."""
import warnings
from typing import Optional, Sequence, Tuple

import torch.distributed as dist
import torch.nn as nn
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.backbones.resnet import BasicBlock
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ..utils import pad_to_multiple

__all__ = ['ACMResUNet', 'AsymmetricContextModulation']

# The authors' norm settings. torch's BatchNorm momentum is the weight of the
# *new* batch statistics, so 0.9 (a literal copy of MXNet's momentum, which is
# the weight of the *old* running value) makes the running statistics follow
# the last batches closely; it changes training only, never eval-mode outputs.
ACM_NORM_CFG = dict(type='BN', momentum=0.9, eps=1e-5)
# The residual blocks come from torchvision in the authors' port and keep torch's
# default momentum.
BLOCK_NORM_CFG = dict(type='BN', momentum=0.1, eps=1e-5)


def conv_norm_act(in_channels: int, out_channels: int, kernel_size: int, *,
                  norm_cfg: dict, act_cfg: Optional[dict], stride: int = 1,
                  bias: bool = False) -> ConvModule:
    """Conv + norm + activation with the padding that keeps the size at stride 1."""
    with warnings.catch_warnings():
        # The authors' 1x1 and fusion convs carry a bias in front of BN; it is
        # kept so that their parameters (and checkpoints) map one-to-one.
        warnings.filterwarnings('ignore', message='Unnecessary conv bias')
        return ConvModule(in_channels, out_channels, kernel_size, stride=stride,
                          padding=kernel_size // 2, bias=bias, norm_cfg=norm_cfg,
                          act_cfg=act_cfg)


def residual_stage(in_channels: int, out_channels: int, num_blocks: int, stride: int,
                   norm_cfg: dict, block_norm_cfg: dict) -> nn.Sequential:
    """``num_blocks`` ResNet basic blocks; the first changes width / resolution.

    The projection shortcut (1x1 conv without bias + norm) exists only where
    the first block changes the width or the stride, as in the authors' code.
    """
    shortcut = None
    if stride != 1 or in_channels != out_channels:
        shortcut = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
    blocks = [BasicBlock(in_channels, out_channels, stride=stride, downsample=shortcut,
                         norm_cfg=block_norm_cfg)]
    blocks += [BasicBlock(out_channels, out_channels, norm_cfg=block_norm_cfg)
               for _ in range(num_blocks - 1)]
    return nn.Sequential(*blocks)


class AsymmetricContextModulation(nn.Module):
    """The ACM fusion of a decoder feature with the encoder skip of its level.

    Small targets are lost in deep features, so each stream re-weights the
    other: a global channel attention of the deep feature (top-down, from its
    1x1 average) gates the shallow one, and a point-wise channel attention of
    the shallow feature (bottom-up, per pixel, so single bright pixels
    survive) gates the deep one. Both products are doubled (sigmoid gates
    average 0.5) and summed, then refined by a 3x3 conv.

    Args:
        channels (int): Width of both inputs and of the output.
        reduction (int): Bottleneck ratio of both attentions.
        norm_cfg (dict): Norm after every conv. The top-down branch normalises
            a 1x1 map, so batch norm needs two or more samples per batch in
            training (see :meth:`ACMResUNet.check_batch`).
        act_cfg (dict): Activation inside the attentions and after the 3x3 conv.
    """

    def __init__(self, channels: int, reduction: int = 4, *, norm_cfg: dict,
                 act_cfg: dict) -> None:
        super().__init__()
        hidden = channels // reduction
        sigmoid = dict(type='Sigmoid')
        self.top_down = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            conv_norm_act(channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=True),
            conv_norm_act(hidden, channels, 1, norm_cfg=norm_cfg, act_cfg=sigmoid, bias=True))
        self.bottom_up = nn.Sequential(
            conv_norm_act(channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=act_cfg, bias=True),
            conv_norm_act(hidden, channels, 1, norm_cfg=norm_cfg, act_cfg=sigmoid, bias=True))
        self.refine = conv_norm_act(channels, channels, 3, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg, bias=True)

    @property
    def pooled_norm(self) -> nn.Module:
        """The norm layer that sees the 1x1 pooled map."""
        return self.top_down[1].norm

    def forward(self, deep: Tensor, shallow: Tensor) -> Tensor:
        fused = 2 * shallow * self.top_down(deep) + 2 * deep * self.bottom_up(shallow)
        return self.refine(fused)


@MODELS.register_module()
class ACMResUNet(BaseModule):
    """The ACM-U-Net encoder and decoder (Dai et al., WACV 2021), as BasicIRSTD ports it.

    Encoder: a norm on the raw input, three 3x3 convs (the first at stride 2)
    and a stride-2 max-pool (1/4), then three residual stages of widths
    ``widths[1:]`` at 1/4, 1/8 and 1/16. Decoder, twice: a stride-2 transposed
    conv, :class:`AsymmetricContextModulation` with the encoder skip and a
    residual stage. The output is the 1/4-resolution decoder feature of width
    ``widths[1]``; :class:`~mmseg_serank.models.decode_heads.ACMHead` turns it
    into the logit map.

    The input is zero-padded at the bottom and right to a multiple of
    ``size_divisor`` so that any H, W works; the head crops back. The
    network needs 16 (its stride); the default 32 is what BasicIRSTD's test
    script pads to, and it matters: the top-down attention averages over the
    whole padded map, so other padding changes the predictions.

    Args:
        in_channels (int): Image channels (1: the authors' grey input).
        widths (Sequence[int]): Stem width, then the widths of the three
            stages (the stem ends at ``2 * widths[0]`` = ``widths[1]``).
        num_blocks (Sequence[int]): Basic blocks of stages 1-3; decoder stages
            at 1/8 and 1/4 repeat those of encoder stages 2 and 1.
        reduction (int): Bottleneck ratio of the ACM attentions.
        norm_cfg (dict): Norm of the input, stem, shortcuts and ACM modules
            (the authors': BN, momentum 0.9, eps 1e-5; ``type='SyncBN'`` on
            several GPUs).
        block_norm_cfg (dict): Norm inside the basic blocks (momentum 0.1).
        act_cfg (dict): Activation of the stem and the ACM modules.
        size_divisor (int): Pad H and W to a multiple of it (of 16).
    """

    stride = 16

    def __init__(self,
                 in_channels: int = 1,
                 widths: Sequence[int] = (8, 16, 32, 64),
                 num_blocks: Sequence[int] = (3, 3, 3),
                 reduction: int = 4,
                 norm_cfg: Optional[dict] = None,
                 block_norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 size_divisor: int = 32,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if size_divisor % self.stride:
            raise ValueError(f'ACMResUNet: size_divisor must be a multiple of '
                             f'{self.stride}, got {size_divisor}')
        self.size_divisor = size_divisor
        if len(widths) != 4 or len(num_blocks) != 3:
            raise ValueError(f'ACMResUNet needs 4 widths and 3 block counts, got '
                             f'{tuple(widths)} and {tuple(num_blocks)}')
        if widths[1] != 2 * widths[0]:
            raise ValueError(f'ACMResUNet: the stem ends at 2 * widths[0] = {2 * widths[0]} '
                             f'channels, which stage 1 takes, so widths[1] must equal it; '
                             f'got widths={tuple(widths)}')
        norm_cfg = dict(norm_cfg) if norm_cfg is not None else dict(ACM_NORM_CFG)
        block_norm_cfg = (dict(block_norm_cfg) if block_norm_cfg is not None
                          else dict(BLOCK_NORM_CFG))
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        stem_width = widths[0]
        # Standardises the raw image with batch statistics before any conv.
        self.input_norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.stem = nn.Sequential(
            conv_norm_act(in_channels, stem_width, 3, stride=2, norm_cfg=norm_cfg,
                          act_cfg=act_cfg),
            conv_norm_act(stem_width, stem_width, 3, norm_cfg=norm_cfg, act_cfg=act_cfg),
            conv_norm_act(stem_width, 2 * stem_width, 3, norm_cfg=norm_cfg, act_cfg=act_cfg),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        # Stage 1 keeps the stem's width and resolution; stages 2 and 3 halve it.
        stage_inputs = (widths[1], widths[1], widths[2])
        self.encoder = nn.ModuleList(
            residual_stage(stage_inputs[i], widths[i + 1], num_blocks[i], 1 if i == 0 else 2,
                           norm_cfg, block_norm_cfg)
            for i in range(3))
        # Decoder levels, deepest first: 1/8 (width widths[2]), then 1/4 (widths[1]).
        levels = (2, 1)
        self.upsamplers = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size=4, stride=2, padding=1)
            for i in levels)
        self.fusions = nn.ModuleList(
            AsymmetricContextModulation(widths[i], reduction, norm_cfg=norm_cfg,
                                        act_cfg=act_cfg)
            for i in levels)
        self.decoder = nn.ModuleList(
            residual_stage(widths[i], widths[i], num_blocks[i - 1], 1, norm_cfg,
                           block_norm_cfg)
            for i in levels)
        # Read by IRSTDEncoderDecoder and the head: one 1/4-resolution feature.
        self.out_channels = (widths[1], )

    def check_batch(self, x: Tensor) -> None:
        """Stop a training batch of one image before it reaches the ACM modules.

        Their top-down attention batch-normalises a 1x1 pooled map: with one
        sample there is one value per channel and no variance to normalise by
        (the authors' code fails there too; BasicIRSTD skips such batches).
        SyncBN across several processes pools the batch over all of them.
        """
        if not self.training or x.shape[0] != 1:
            return
        norm = self.fusions[0].pooled_norm
        if not isinstance(norm, _BatchNorm):
            return
        synced = (isinstance(norm, nn.SyncBatchNorm) and dist.is_available()
                  and dist.is_initialized() and dist.get_world_size() > 1)
        if not synced:
            raise ValueError(
                'ACMResUNet cannot train on a batch of one image: its ACM modules '
                'batch-normalise a 1x1 globally pooled map, which has no variance with one '
                'sample. Use train_dataloader.batch_size >= 2 per GPU (keep drop_last=True '
                "so no last batch of one remains), or norm_cfg=dict(type='SyncBN', ...) "
                'across several GPUs so the statistics pool their batches.')

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        self.check_batch(x)
        x = pad_to_multiple(x, self.size_divisor)
        x = self.stem(self.input_norm(x))
        skips = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        x = skips.pop()
        for upsample, fusion, stage in zip(self.upsamplers, self.fusions, self.decoder):
            x = stage(fusion(upsample(x), skips.pop()))
        return (x, )

