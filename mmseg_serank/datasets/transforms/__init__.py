"""Registered in mmseg's registries on import."""
from .geometric import PadToMinSize, RandomRescaleLongSide, ResizeToBase
from .loading import BinarizeMask, IRInferencerLoader, LoadIRAnnotations, LoadIRImageFromFile
from .photometric import RandomGaussianBlur

__all__ = [
    'LoadIRImageFromFile', 'LoadIRAnnotations', 'IRInferencerLoader', 'BinarizeMask',
    'RandomRescaleLongSide', 'PadToMinSize', 'ResizeToBase', 'RandomGaussianBlur'
]
