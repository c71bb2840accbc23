"""UIU-Net side outputs and their fusion (the deep supervision of RM-DS)."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from .multi_output_head import MultiOutputHead

__all__ = ['UIUNetHead']

NUM_SIDES = 6


@MODELS.register_module()
class UIUNetHead(MultiOutputHead):
    """Six side maps and the 1x1 conv that fuses them into the prediction.

    A 3x3 conv (with bias) reads each backbone map (decoder levels 1..5 and
    the deepest encoder stage); the five coarser maps are resized bilinearly
    (align_corners=False) to the finest one's size, and a 1x1 conv over the
    six maps gives the fused map, the authors' test output (``d0``; their
    ``normPRED`` min-max rescaling at test time is not part of the model).

    Loss keys: the fused map gives ``<loss_name>`` (``loss_ce`` for the
    authors' BCE); the side maps give ``aux1_<loss_name>`` .. ``aux6_<loss_name>``
    for the authors' ``d1`` .. ``d6`` (finest first).

    Args:
        in_channels (Sequence[int]): Widths of the six backbone maps.
        channels (int): Maps the fusion conv reads (one per side output).
        output_weights (Sequence[float]): Loss weights in the order
            [d1, ..., d6, fused]; the authors sum seven equal BCE terms.
        threshold (float): Probability above which a pixel is target.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 64, 128, 256, 512, 512),
                 channels: int = NUM_SIDES,
                 *,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 output_weights: Sequence[float] = (1.0, ) * (NUM_SIDES + 1),
                 **kwargs) -> None:
        if in_channels is None or len(in_channels) != NUM_SIDES:
            raise ValueError(f'UIUNetHead needs {NUM_SIDES} in_channels, got {in_channels}')
        if len(output_weights) != NUM_SIDES + 1:
            raise ValueError('output_weights needs 7 entries [d1, ..., d6, fused], '
                             f'got {tuple(output_weights)}')
        super().__init__(
            list(in_channels), channels, output_weights=output_weights,
            num_classes=num_classes, out_channels=out_channels, threshold=threshold,
            input_transform='multiple_select', in_index=list(range(NUM_SIDES)), **kwargs)
        if channels != NUM_SIDES * self.out_channels:
            raise ValueError(f'UIUNetHead: channels must be {NUM_SIDES * self.out_channels} '
                             f'(the side maps it fuses), got {channels}')
        self.side_convs = nn.ModuleList(
            nn.Conv2d(width, self.out_channels, 3, padding=1) for width in in_channels)
        self.fuse_conv = nn.Conv2d(channels, self.out_channels, 1)

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[d1, ..., d6, fused] logits at the size of the finest map."""
        features = self._transform_inputs(inputs)
        sides = [conv(feature) for conv, feature in zip(self.side_convs, features)]
        size = sides[0].shape[2:]
        sides = sides[:1] + [
            F.interpolate(side, size=size, mode='bilinear', align_corners=False)
            for side in sides[1:]]
        return sides + [self.fuse_conv(torch.cat(sides, dim=1))]
