"""Target-level detection of one image: components, matching, false alarms."""
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .components import Components, label_components
from .target_matching import TargetMatch, match_targets

__all__ = ['DEFAULT_CONNECTIVITY', 'DEFAULT_MATCH_DISTANCE', 'ImageDetection', 'detect_targets',
           'check_detection_settings']

#: BasicIRSTD's settings, the IRSTDMetric defaults every other consumer inherits.
DEFAULT_MATCH_DISTANCE = 3.0
DEFAULT_CONNECTIVITY = 8


def check_detection_settings(match_distance: float, connectivity: int) -> None:
    """Raise ValueError for settings that would score silently wrong.

    A distance <= 0 (or NaN) matches nothing, so Pd would read 0 whatever the
    model does; connectivity other than 4 or 8 has no meaning on a pixel grid.
    """
    if isinstance(match_distance, bool) or not isinstance(match_distance, numbers.Real) \
            or not 0 < match_distance < float('inf'):
        raise ValueError(f'match_distance must be a finite number of pixels > 0, '
                         f'got {match_distance!r}')
    if isinstance(connectivity, bool) or connectivity not in (4, 8):
        raise ValueError(f'connectivity must be 4 or 8, got {connectivity!r}')


@dataclass
class ImageDetection:
    """Targets, predicted components and how they matched, for one image."""

    targets: Components
    predictions: Components
    match: TargetMatch

    @property
    def num_targets(self) -> int:
        return len(self.targets)

    @property
    def num_detected(self) -> int:
        return int(self.match.target_detected.sum())

    @property
    def false_alarm_pixels(self) -> int:
        """Pixels of predicted components that matched no target."""
        return int(self.predictions.areas[~self.match.prediction_matched].sum())


def detect_targets(prediction_mask: np.ndarray,
                   target_mask: np.ndarray,
                   connectivity: int = DEFAULT_CONNECTIVITY,
                   max_distance: float = DEFAULT_MATCH_DISTANCE,
                   targets: Optional[Components] = None) -> ImageDetection:
    """Label both masks and match them the BasicIRSTD way.

    Args:
        prediction_mask: 2-D binary prediction.
        target_mask: 2-D binary ground truth (ignored when ``targets`` given).
        connectivity: 8 or 4 (pixel adjacency of a component).
        max_distance: centroid distance below which a prediction hits.
        targets: already labelled ground truth, to avoid relabelling it when
            one image is scored at many thresholds.
    """
    if targets is None:
        targets = label_components(target_mask, connectivity)
    predictions = label_components(prediction_mask, connectivity)
    match = match_targets(targets.centroids, predictions.centroids, max_distance)
    return ImageDetection(targets, predictions, match)
