"""Backbones of mmseg_serank."""
from .serankdet import SeRankDet

__all__ = ['SeRankDet']
