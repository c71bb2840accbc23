"""Drawing of IRSTD outcomes (hits, misses, false alarms)."""
from .detection_overlay import OUTCOME_COLORS, draw_detection_overlay

__all__ = ['OUTCOME_COLORS', 'draw_detection_overlay']
