"""RDIAN head: stem/attention fusion at full resolution and the FCN output."""
from typing import List, Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from ..backbones.rdian import authors_init
from .multi_output_head import MultiOutputHead

__all__ = ['RDIANHead']


@MODELS.register_module()
class RDIANHead(MultiOutputHead):
    """The RDIAN output: one logit map at the input size, no deep supervision.

    The backbone's attended half-resolution features are resized bilinearly
    (align_corners=False) to the stem size, i.e. the input size, and added to
    a 1x1 conv-norm-act projection of the stem features; after a ReLU, an FCN
    block (3x3 conv-norm-ReLU to ``channels``, dropout, 1x1 conv ``conv_seg``
    with bias) gives the logits. The authors' train.py and test.py use this
    one map (their test applies the sigmoid).

    Loss keys: ``<loss_name>`` (e.g. ``loss_softiou``) and ``acc_seg``.

    Args:
        in_channels (Sequence[int]): Widths of the backbone's (stem,
            attended) features, (16, 32) for the authors' network.
        channels (int): Width of the FCN block (authors: 32 // 4 = 8).
        dropout_ratio (float): Dropout before ``conv_seg`` (authors: 0.1).
        norm_cfg (dict): Norm layers (authors: BN, momentum 0.1, eps 1e-5).
        fuse_act_cfg (dict): Activation of the stem projection (authors:
            LeakyReLU 0.01, as the backbone's conv layers).
        act_cfg (dict): Activation after the fusion and in the FCN block
            (authors: ReLU).
        output_weights (Sequence[float]): Loss weight of the one map.
        init_cfg (dict, optional): None gives the authors' initialisation
            (conv weights N(0, 0.02), BN weights N(1, 0.02), BN biases N(0, 1)).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (16, 32),
                 channels: int = 8,
                 *,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 dropout_ratio: float = 0.1,
                 norm_cfg: Optional[dict] = None,
                 fuse_act_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 output_weights: Sequence[float] = (1.0, ),
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
        fuse_act_cfg = fuse_act_cfg if fuse_act_cfg is not None else dict(
            type='LeakyReLU', negative_slope=0.01)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        if len(output_weights) != 1:
            raise ValueError(f'RDIANHead has one output map, got output_weights '
                             f'{tuple(output_weights)}')
        super().__init__(
            list(in_channels), channels, output_weights=output_weights,
            num_classes=num_classes, out_channels=out_channels, threshold=threshold,
            use_conv_seg=True, dropout_ratio=dropout_ratio, norm_cfg=norm_cfg,
            act_cfg=act_cfg, input_transform='multiple_select', in_index=[0, 1],
            init_cfg=init_cfg, **kwargs)
        self.use_authors_init = init_cfg is None
        # The authors drop single activations (nn.Dropout), not whole channels
        # as mmseg's default nn.Dropout2d does.
        if dropout_ratio > 0:
            self.dropout = nn.Dropout(dropout_ratio)
        stem_channels, feature_channels = self.in_channels
        self.stem_projection = ConvModule(stem_channels, feature_channels, 1, bias=False,
                                          norm_cfg=norm_cfg, act_cfg=fuse_act_cfg)
        self.fuse_act = build_activation_layer(act_cfg)
        self.fcn = ConvModule(feature_channels, channels, 3, padding=1, bias=False,
                              norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[logits] at the stem (input) size."""
        stem, attended = self._transform_inputs(inputs)
        upsampled = F.interpolate(attended, size=stem.shape[-2:], mode='bilinear',
                                  align_corners=False)
        fused = self.fuse_act(upsampled + self.stem_projection(stem))
        return [self.cls_seg(self.fcn(fused))]

    def init_weights(self) -> None:
        """The authors' initialisation unless ``init_cfg`` was given."""
        if not self.use_authors_init:
            super().init_weights()
            return
        authors_init(self)
        self._is_init = True
