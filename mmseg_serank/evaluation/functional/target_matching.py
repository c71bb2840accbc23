"""Greedy centroid matching of ground-truth targets to predicted components.

This is the rule of BasicIRSTD's ``PD_FA``: visit the ground-truth targets in
label order; each claims the first still-unclaimed predicted component (in
label order) whose centroid lies strictly closer than ``max_distance``.
"""
from dataclasses import dataclass

import numpy as np

__all__ = ['TargetMatch', 'match_targets']


@dataclass
class TargetMatch:
    """Outcome of matching for one image.

    Attributes:
        target_detected: bool per ground-truth target.
        prediction_matched: bool per predicted component; the unmatched ones
            are the false alarms.
    """

    target_detected: np.ndarray
    prediction_matched: np.ndarray


def match_targets(target_centroids: np.ndarray,
                  prediction_centroids: np.ndarray,
                  max_distance: float = 3.0) -> TargetMatch:
    """Match targets to predictions by centroid distance (greedy, one-to-one).

    Args:
        target_centroids: ``(T, 2)`` centroids in label order.
        prediction_centroids: ``(P, 2)`` centroids in label order.
        max_distance: a pair matches when its Euclidean centroid distance is
            strictly below this value (pixels).
    """
    target_detected = np.zeros(len(target_centroids), bool)
    prediction_matched = np.zeros(len(prediction_centroids), bool)
    if len(target_centroids) == 0 or len(prediction_centroids) == 0:
        return TargetMatch(target_detected, prediction_matched)

    offsets = target_centroids[:, None, :] - prediction_centroids[None, :, :]
    within_reach = np.sqrt((offsets**2).sum(axis=-1)) < max_distance
    # Pairs in reach are few; visiting them in row-major order (targets in
    # label order, then predictions in label order) is exactly the greedy rule.
    claimed, detected = set(), set()
    for target, prediction in zip(*(index.tolist() for index in np.nonzero(within_reach))):
        if target not in detected and prediction not in claimed:
            detected.add(target)
            claimed.add(prediction)
    target_detected[list(detected)] = True
    prediction_matched[list(claimed)] = True
    return TargetMatch(target_detected, prediction_matched)
