"""Decode heads of mmseg_serank."""
from .serankdet_head import SeRankDetHead

__all__ = ['SeRankDetHead']
