"""Large selective feature fusion (LSFF), the reference's ``Neck``."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer
from torch import Tensor


class LargeSelectiveFeatureFusion(nn.Module):
    """Fuse an encoder skip and a decoder feature with spatial selection.

    A 7x7 conv on the channel-mean and channel-max maps of ``cat(enc, dec)``
    gives two sigmoid masks that weight ``enc`` and ``dec`` per pixel; a 1x1
    conv lifts their sum to a 2C modulation of the concatenation. A learnable
    ``gamma`` (initialised to 0) blends it in, so training starts from plain
    concatenation.

    Args:
        channels (int): Channels of each input; the output has ``2 * channels``.
    """

    def __init__(self, channels: int, conv_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.squeeze_conv = build_conv_layer(conv_cfg, 2, 2, 7, padding=3)
        self.expand_conv = build_conv_layer(conv_cfg, channels, 2 * channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, enc: Tensor, dec: Tensor) -> Tensor:
        both = torch.cat([enc, dec], dim=1)
        pooled = torch.cat([both.mean(dim=1, keepdim=True),
                            both.amax(dim=1, keepdim=True)], dim=1)
        select = self.squeeze_conv(pooled).sigmoid()
        modulation = self.expand_conv(enc * select[:, 0:1] + dec * select[:, 1:2])
        return self.gamma * (both * modulation) + both
