"""ACM-U-Net output head: an FCN head at 1/4 resolution, upsampled x4."""
from typing import List, Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ...thresholds import DEFAULT_THRESHOLD
from .multi_output_head import MultiOutputHead

__all__ = ['ACMHead']


@MODELS.register_module()
class ACMHead(MultiOutputHead):
    """The authors' FCN head on the 1/4-resolution decoder feature.

    3x3 conv (no bias) + norm + activation to ``channels`` (the authors':
    ``in_channels // 4``), dropout, and ``conv_seg`` (1x1 with bias, the
    authors' last conv) to one logit, then bilinear upsampling x4
    (``align_corners=False``) to the backbone's padded input size. ACM trains
    and predicts with this one map (no deep supervision).

    Args:
        in_channels (int): Width of the backbone feature (16).
        channels (int): Width before ``conv_seg`` (4).
        dropout_ratio (float): Probability of the element-wise dropout before
            ``conv_seg`` (the authors' ``nn.Dropout(0.1)``, which drops single
            activations, not whole channels as mmseg's default Dropout2d).
        norm_cfg (dict): Norm of the 3x3 conv (the authors': BN, momentum 0.9).
        act_cfg (dict): Activation of the 3x3 conv.
        threshold (float): Probability above which a pixel is target.
    """

    upsample_factor = 4

    def __init__(self,
                 in_channels: int = 16,
                 channels: int = 4,
                 *,
                 dropout_ratio: float = 0.1,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 num_classes: int = 2,
                 out_channels: Optional[int] = 1,
                 threshold: Optional[float] = DEFAULT_THRESHOLD,
                 output_weights: Sequence[float] = (1.0, ),
                 **kwargs) -> None:
        norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='BN', momentum=0.9, eps=1e-5)
        act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        if isinstance(in_channels, (list, tuple)):
            if len(in_channels) != 1:
                raise ValueError(f'ACMHead takes one feature, got in_channels={in_channels}')
            in_channels = in_channels[0]
        super().__init__(
            in_channels, channels, output_weights=output_weights, num_classes=num_classes,
            out_channels=out_channels, threshold=threshold, use_conv_seg=True,
            dropout_ratio=dropout_ratio, norm_cfg=norm_cfg, act_cfg=act_cfg, **kwargs)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.conv = ConvModule(in_channels, channels, 3, padding=1, bias=False,
                               conv_cfg=self.conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward_all(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """[prediction] logits at the padded input size."""
        feature = self._transform_inputs(inputs)
        logits = self.cls_seg(self.conv(feature))
        return [resize(logits, scale_factor=self.upsample_factor, mode='bilinear',
                       align_corners=self.align_corners)]
