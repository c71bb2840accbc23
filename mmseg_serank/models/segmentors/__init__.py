from .irstd_encoder_decoder import IRSTDEncoderDecoder
from .irstd_tta import IRSTDTTAModel

__all__ = ['IRSTDEncoderDecoder', 'IRSTDTTAModel']
