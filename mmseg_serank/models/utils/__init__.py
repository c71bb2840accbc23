"""Helpers shared by the networks of mmseg_serank (not registered)."""
from .padding import crop_to, pad_to_multiple

__all__ = ['crop_to', 'pad_to_multiple']
