from .irstd_tta import IRSTDTTAModel

__all__ = ['IRSTDTTAModel']
