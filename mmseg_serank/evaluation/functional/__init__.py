"""Pure-numpy IRSTD scoring: components, target matching, sweeps and curves."""
from .components import Components, label_components
from .curves import average_precision, pixel_curves_from_histograms, probability_histograms, roc_auc
from .detection import (
    DEFAULT_CONNECTIVITY,
    DEFAULT_MATCH_DISTANCE,
    ImageDetection,
    check_detection_settings,
    detect_targets,
)
from .target_matching import TargetMatch, match_targets
from .threshold_sweep import sweep_thresholds

__all__ = [
    'DEFAULT_CONNECTIVITY', 'DEFAULT_MATCH_DISTANCE', 'Components', 'label_components',
    'TargetMatch', 'match_targets',
    'ImageDetection', 'detect_targets', 'check_detection_settings', 'sweep_thresholds',
    'probability_histograms', 'pixel_curves_from_histograms', 'roc_auc',
    'average_precision'
]
