"""Building blocks of SeRankDet (plain nn.Modules, not registered)."""
from .cdc_conv import CentralDifferenceConv2d
from .conv_norm_act import cdc3x3_norm_act, conv3x3_norm_act
from .ddc_block import DDCBlock
from .lsff import LargeSelectiveFeatureFusion
from .reparameterize import reparameterize_model
from .serank_attention import SeRankAttention, sinusoidal_position_term

__all__ = [
    'CentralDifferenceConv2d', 'DDCBlock', 'LargeSelectiveFeatureFusion',
    'SeRankAttention', 'cdc3x3_norm_act', 'conv3x3_norm_act',
    'reparameterize_model', 'sinusoidal_position_term'
]
