"""DNANet head: feature pyramid fusion and four deep-supervision outputs."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from ..backbones.dnanet import res_cbam_stage, resize_like
from .multi_output_head import MultiOutputHead

__all__ = ['DNANetHead']

NUM_LEVELS = 5
NUM_OUTPUTS = 4


@MODELS.register_module()
class DNANetHead(MultiOutputHead):
    """DNANet's feature pyramid fusion and its four 1x1 output convs.

    Inputs are the eight maps of the :class:`DNANet` backbone: the level-0
    nodes (0, 1)..(0, 4), then the last node of levels 1..4. Each deep map is
    projected to ``channels`` by a 1x1 conv, upsampled to level 0 (bilinear,
    ``align_corners=True`` as the authors) and concatenated, deepest first,
    with node (0, 4); one :class:`ResCBAMBlock` fuses them. ``conv_seg`` (1x1,
    the authors' ``final4``) gives the prediction from the fused map; three
    more 1x1 convs (``final1..3``) give deep-supervision maps from nodes
    (0, 1), (0, 2), (0, 3). They are trained but skipped at test time.

    Loss keys: ``aux1_<loss_name>`` .. ``aux3_<loss_name>`` for the maps of
    nodes (0, 1)..(0, 3), ``<loss_name>`` for the prediction.

    Args:
        in_channels (Sequence[int], optional): Widths of the eight backbone
            maps. ``None``: :class:`IRSTDEncoderDecoder` fills it (and
            ``channels``) from the backbone.
        channels (int, optional): Level-0 width; must equal ``in_channels[0]``.
        output_weights (Sequence[float]): Loss weights of
            [final1, final2, final3, final4]; the authors average the four
            losses (0.25 each). A zero weight skips that map.
        threshold (float): Probability above which a pixel is target.
        norm_cfg (dict): Norm layers of the fusion block.
        act_cfg (dict): Activation layers of the fusion block.
    """

    def __init__(self,
                 in_channels: Optional[Sequence[int]] = (16, 16, 16, 16, 32, 64, 128, 256),
                 channels: Optional[int] = 16,
                 *,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 output_weights: Sequence[float] = (0.25, ) * NUM_OUTPUTS,
                 dropout_ratio: float = 0.0,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        if in_channels is None or channels is None:
            raise ValueError(
                'DNANetHead: in_channels/channels are None; model.type='
                "'IRSTDEncoderDecoder' fills them from the backbone (other segmentors "
                'need them set in model.decode_head)')
        widths = list(in_channels)
        num_inputs = NUM_OUTPUTS + NUM_LEVELS - 1
        if len(widths) != num_inputs or any(w != channels for w in widths[:NUM_OUTPUTS]):
            raise ValueError(f'DNANetHead needs {num_inputs} in_channels whose first '
                             f'{NUM_OUTPUTS} equal channels={channels}, got {widths}')
        if len(output_weights) != NUM_OUTPUTS:
            raise ValueError('output_weights needs 4 entries [final1, final2, '
                             f'final3, final4], got {tuple(output_weights)}')
        norm_cfg = norm_cfg if norm_cfg is not None else dict(type='BN', requires_grad=True)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        super().__init__(
            widths, channels, output_weights=output_weights,
            num_classes=num_classes, out_channels=out_channels, threshold=threshold,
            use_conv_seg=True, dropout_ratio=dropout_ratio, norm_cfg=norm_cfg,
            act_cfg=act_cfg, input_transform='multiple_select',
            in_index=list(range(num_inputs)), **kwargs)
        # lateral_convs[k] projects the last node of level k + 1.
        self.lateral_convs = nn.ModuleList(
            build_conv_layer(self.conv_cfg, width, channels, 1)
            for width in widths[NUM_OUTPUTS:])
        self.fusion = res_cbam_stage(NUM_LEVELS * channels, channels, 1, norm_cfg, act_cfg,
                                     self.conv_cfg)
        self.side_convs = nn.ModuleList(
            build_conv_layer(self.conv_cfg, channels, self.out_channels, 1)
            for _ in range(NUM_OUTPUTS - 1))

    def fuse(self, inputs: Sequence[Tensor]) -> Tensor:
        """The fused level-0 map (feature pyramid fusion)."""
        maps = self._transform_inputs(inputs)
        top = maps[NUM_OUTPUTS - 1]
        projected = [resize_like(conv(feature), top) for conv, feature in
                     zip(self.lateral_convs, maps[NUM_OUTPUTS:])]
        return self.fusion(torch.cat(projected[::-1] + [top], dim=1))

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[final1, final2, final3, final4] logits; final4 is the prediction."""
        maps = self._transform_inputs(inputs)
        sides = [conv(feature) for conv, feature in zip(self.side_convs, maps)]
        return sides + [self.cls_seg(self.fuse(inputs))]

    def forward_prediction(self, inputs: Sequence[Tensor]) -> Tensor:
        """final4 only (the authors' test output)."""
        return self.cls_seg(self.fuse(inputs))
