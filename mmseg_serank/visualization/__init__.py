"""Drawing of IRSTD outcomes (hits, misses, false alarms) and saving the pictures."""
from .detection_overlay import OUTCOME_COLORS, draw_detection_overlay
from .picture_io import prepare_picture_dir, write_picture

__all__ = ['OUTCOME_COLORS', 'draw_detection_overlay', 'prepare_picture_dir', 'write_picture']
