"""Pixel-level ROC and precision-recall curves from probability histograms.

Per image only two fixed-size histograms are kept (target and background
pixels), so the records stay small in distributed evaluation and the curves
are sums of integers, independent of the order in which images arrive.
"""
from typing import Dict

import numpy as np

__all__ = [
    'probability_histograms', 'pixel_curves_from_histograms', 'roc_auc',
    'average_precision'
]


def probability_histograms(probability: np.ndarray, target_mask: np.ndarray,
                           num_bins: int) -> Dict[str, np.ndarray]:
    """Count target and background pixels in ``num_bins`` equal bins of [0, 1].

    Bin ``k`` holds probabilities in ``[k / num_bins, (k + 1) / num_bins)``;
    probability 1 goes to the last bin.
    """
    bins = np.minimum((probability * num_bins).astype(np.int64), num_bins - 1)
    is_target = target_mask.astype(bool)
    return dict(
        target=np.bincount(bins[is_target], minlength=num_bins),
        background=np.bincount(bins[~is_target], minlength=num_bins))


def pixel_curves_from_histograms(target_hist: np.ndarray,
                                 background_hist: np.ndarray
                                 ) -> Dict[str, np.ndarray]:
    """ROC and PR points at the bin edges ``k / num_bins`` (predict p >= edge).

    Returns ``threshold``, ``fpr``, ``tpr`` (= recall) and ``precision``,
    ordered by decreasing threshold; the first point (threshold above 1)
    predicts nothing. Precision with no positive prediction is 1 (the usual
    convention that anchors the PR curve at recall 0).
    """
    num_bins = len(target_hist)
    # Walking the bins from the top down, the running sums are the pixels
    # predicted positive at each lower edge; the leading 0 predicts nothing.
    true_positives = np.concatenate([[0], np.cumsum(target_hist[::-1])])
    false_positives = np.concatenate([[0], np.cumsum(background_hist[::-1])])
    thresholds = np.concatenate([[np.inf], np.arange(num_bins - 1, -1, -1) / num_bins])
    total_targets = max(int(target_hist.sum()), 1)
    total_background = max(int(background_hist.sum()), 1)
    predicted = true_positives + false_positives
    precision = np.where(predicted > 0, true_positives / np.maximum(predicted, 1), 1.0)
    return dict(
        threshold=thresholds,
        fpr=false_positives / total_background,
        tpr=true_positives / total_targets,
        precision=precision)


def roc_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Trapezoidal area under an ROC curve given with increasing ``fpr``."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the PR curve as a step function (sklearn's average precision).

    ``recall`` must be non-decreasing; each recall gain is weighted by the
    precision reached there, which avoids the optimism of linear interpolation.
    """
    return float(np.sum(np.diff(recall) * precision[1:]))
