"""Dilated difference convolution (DDC) block, the SeRankDet encoder unit."""
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from .conv_norm_act import cdc3x3_norm_act, conv3x3_norm_act


class DDCBlock(nn.Module):
    """Three parallel branches fused by a 3x3 conv.

    * plain: three 3x3 convs (in->in, in->out, out->out) for ordinary texture;
    * difference: one central difference conv, sensitive to local contrast;
    * dilated: 3x3 convs with dilation 2, 4, 2 for a wide context at full
      resolution, so small targets are judged against their surroundings.

    Each conv is followed by norm and activation; the concatenation
    (3 * out channels) is fused back to ``out_channels``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 cdc_theta: float = 0.7) -> None:
        super().__init__()
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN')
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')

        def conv(cin: int, cout: int, dilation: int = 1) -> nn.Module:
            return conv3x3_norm_act(cin, cout, norm_cfg, act_cfg, dilation=dilation)

        self.plain_branch = nn.Sequential(
            conv(in_channels, in_channels), conv(in_channels, out_channels),
            conv(out_channels, out_channels))
        self.difference_branch = cdc3x3_norm_act(
            in_channels, out_channels, norm_cfg, act_cfg, theta=cdc_theta)
        self.dilated_branch = nn.Sequential(
            conv(in_channels, in_channels, 2), conv(in_channels, out_channels, 4),
            conv(out_channels, out_channels, 2))
        self.fuse = conv(3 * out_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        branches = (self.plain_branch(x), self.difference_branch(x),
                    self.dilated_branch(x))
        return self.fuse(torch.cat(branches, dim=1))
