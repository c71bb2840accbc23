"""Conv-Norm-Act builders shared by the encoder and the decoder.

The reference gives every conv a bias even in front of BatchNorm; keeping the
bias makes its checkpoints load one-to-one (BN cancels it in training anyway).
"""
import warnings
from typing import Optional

from mmcv.cnn import ConvModule

from .cdc_conv import CentralDifferenceConv2d


def conv3x3_norm_act(in_channels: int,
                     out_channels: int,
                     norm_cfg: Optional[dict],
                     act_cfg: Optional[dict],
                     dilation: int = 1,
                     conv_cfg: Optional[dict] = None) -> ConvModule:
    """3x3 conv (padding = dilation, so the size is kept) + norm + activation."""
    with warnings.catch_warnings():
        # ConvModule warns about a bias before BN; it is kept on purpose.
        warnings.filterwarnings('ignore', message='Unnecessary conv bias')
        return ConvModule(in_channels, out_channels, 3, padding=dilation,
                          dilation=dilation, bias=True, conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg, act_cfg=act_cfg)


def cdc3x3_norm_act(in_channels: int,
                    out_channels: int,
                    norm_cfg: Optional[dict],
                    act_cfg: Optional[dict],
                    theta: float = 0.7) -> ConvModule:
    """Central difference 3x3 conv + norm + activation."""
    return conv3x3_norm_act(
        in_channels, out_channels, norm_cfg, act_cfg,
        conv_cfg=dict(type=CentralDifferenceConv2d, theta=theta))
