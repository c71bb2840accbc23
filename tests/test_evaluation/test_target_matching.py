"""Pd/Fa matching on hand-made cases and against a plain reference loop."""
import math

import numpy as np
from scipy import ndimage

from mmseg_serank.evaluation.functional import detect_targets


def reference_detection(prediction, target, max_distance=3.0):
    """BasicIRSTD's rule written as a direct loop over scipy components."""
    structure = np.ones((3, 3))
    target_labels, num_targets = ndimage.label(target, structure)
    pred_labels, num_preds = ndimage.label(prediction, structure)
    target_centres = ndimage.center_of_mass(target, target_labels,
                                            range(1, num_targets + 1))
    pred_centres = ndimage.center_of_mass(prediction, pred_labels,
                                          range(1, num_preds + 1))
    pred_areas = ndimage.sum(prediction, pred_labels, range(1, num_preds + 1))
    unclaimed = list(range(num_preds))
    detected, matched_pixels = 0, 0
    for target_centre in target_centres:
        for pred in unclaimed:
            dy = target_centre[0] - pred_centres[pred][0]
            dx = target_centre[1] - pred_centres[pred][1]
            if math.sqrt(dy * dy + dx * dx) < max_distance:
                detected += 1
                matched_pixels += pred_areas[pred]
                unclaimed.remove(pred)
                break
    return num_targets, detected, int(prediction.sum() - matched_pixels)


def detection_counts(prediction, target, **kwargs):
    result = detect_targets(prediction, target, **kwargs)
    return result.num_targets, result.num_detected, result.false_alarm_pixels


def empty(shape=(40, 40)):
    return np.zeros(shape, bool)


def test_missed_target_and_false_alarm():
    target, prediction = empty(), empty()
    target[5:7, 5:7] = True
    target[30:32, 30:32] = True
    prediction[5:7, 5:7] = True  # hits the first target only
    prediction[20:22, 10:12] = True  # 4-pixel false alarm
    assert detection_counts(prediction, target) == (2, 1, 4)


def test_target_split_in_two_one_piece_matches_the_other_is_false_alarm():
    target, prediction = empty(), empty()
    target[10, 10:19] = True  # centroid column 14
    prediction[10, 10:14] = True  # centroid 11.5: 2.5 px away, claims it
    prediction[10, 15:19] = True  # centroid 16.5: also close, but too late
    assert detection_counts(prediction, target) == (1, 1, 4)


def _piece_with_row_offset(extra_row: int) -> np.ndarray:
    """Ten pixels: nine on row 23 (cols 16..24) and one at (extra_row, 20)."""
    prediction = empty()
    prediction[23, 16:25] = True
    prediction[extra_row, 20] = True
    return prediction


def test_centroid_distance_threshold_is_strict_and_exact():
    target = empty()
    target[20, 20] = True
    hit = _piece_with_row_offset(22)  # centroid (22.9, 20): 2.9 px
    miss = _piece_with_row_offset(24)  # centroid (23.1, 20): 3.1 px
    assert detection_counts(hit, target) == (1, 1, 0)
    assert detection_counts(miss, target) == (1, 0, 10)
    exactly_three = empty()
    exactly_three[23, 20] = True
    assert detection_counts(exactly_three, target) == (1, 0, 1)
    assert detection_counts(miss, target, max_distance=3.2) == (1, 1, 0)


def test_touching_targets_are_one_target_with_8_connectivity():
    target = empty()
    target[10:12, 10:12] = True
    target[12:14, 12:14] = True  # diagonal neighbour of the first square
    prediction = target.copy()
    assert detection_counts(prediction, target) == (1, 1, 0)
    assert detection_counts(prediction, target, connectivity=4) == (2, 2, 0)


def test_greedy_order_first_target_claims_first_prediction():
    target, prediction = empty(), empty()
    target[10, 10] = True
    target[10, 14] = True
    prediction[10, 12] = True  # 2 px from both targets
    assert detection_counts(prediction, target) == (2, 1, 0)
    result = detect_targets(prediction, target)
    assert result.match.target_detected.tolist() == [True, False]


def test_agrees_with_reference_loop_on_random_masks(blob_masks):
    rng = np.random.default_rng(7)
    for probability, target in blob_masks(rng, 150, size=40):
        prediction = probability > 0.5
        assert detection_counts(prediction, target) == \
            reference_detection(prediction, target)
