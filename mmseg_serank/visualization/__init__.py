"""Drawing of IRSTD outcomes (hits, misses, false alarms) and saving the pictures."""
from .detection_overlay import (
    OUTCOME_COLORS,
    draw_detection_overlay,
    draw_ground_truth_overlay,
    draw_prediction_overlay,
)
from .irstd_local_visualizer import IRSTDLocalVisualizer
from .picture_io import prepare_picture_dir, write_file, write_picture

__all__ = ['OUTCOME_COLORS', 'IRSTDLocalVisualizer', 'draw_detection_overlay',
           'draw_ground_truth_overlay', 'draw_prediction_overlay', 'prepare_picture_dir',
           'write_file', 'write_picture']
