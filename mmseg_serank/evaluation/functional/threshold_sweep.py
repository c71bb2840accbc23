"""Per-image counts at many thresholds, for Pd-Fa and IoU-vs-threshold curves.

Pd and Fa need connected components, which no histogram can give, so each
threshold is scored directly and only a few integers per threshold are kept.
"""
from typing import Dict, Sequence

import numpy as np

from .components import Components
from .detection import detect_targets

__all__ = ['sweep_thresholds']


def sweep_thresholds(probability: np.ndarray,
                     target_mask: np.ndarray,
                     targets: Components,
                     thresholds: Sequence[float],
                     connectivity: int = 8,
                     max_distance: float = 3.0) -> Dict[str, np.ndarray]:
    """Score one image at every threshold (predict ``probability > t``).

    Returns ``int64`` arrays with one entry per threshold: ``intersection``,
    ``predicted_pixels``, ``detected_targets`` and ``false_alarm_pixels``.
    """
    target_probabilities = np.sort(probability[target_mask.astype(bool)])
    above = len(target_probabilities) - np.searchsorted(
        target_probabilities, np.asarray(thresholds, float), side='right')
    predicted = np.zeros(len(thresholds), np.int64)
    detected = np.zeros(len(thresholds), np.int64)
    false_alarm = np.zeros(len(thresholds), np.int64)
    for index, threshold in enumerate(thresholds):
        detection = detect_targets(probability > threshold, target_mask,
                                   connectivity, max_distance, targets=targets)
        predicted[index] = detection.predictions.areas.sum()
        detected[index] = detection.num_detected
        false_alarm[index] = detection.false_alarm_pixels
    return dict(
        intersection=above.astype(np.int64),
        predicted_pixels=predicted,
        detected_targets=detected,
        false_alarm_pixels=false_alarm)
