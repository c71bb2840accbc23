"""Picture of one image's IRSTD outcome: hits, misses and false alarms.

Small targets are a few pixels wide, so the image is enlarged with
nearest-neighbour sampling and every outcome gets a box in its own colour,
plus a legend strip with the counts.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
from scipy import ndimage

from ..evaluation.functional import (
    DEFAULT_CONNECTIVITY,
    Components,
    ImageDetection,
    label_components,
)

__all__ = ['OUTCOME_COLORS', 'draw_detection_overlay', 'draw_ground_truth_overlay',
           'draw_prediction_overlay']

# BGR, chosen to stay apart for the common red-green colour blindness too:
# hits green, false alarms magenta-red, misses yellow, ground truth cyan; a
# prediction with no ground truth to judge it (inference) orange.
OUTCOME_COLORS = dict(
    hit=(80, 200, 0),
    false_alarm=(60, 20, 230),
    missed=(0, 220, 255),
    ground_truth=(255, 200, 0),
    prediction=(0, 140, 255))


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _boxes(components: Components) -> list:
    """``(top, left, bottom, right)`` per component, inclusive, mask coords."""
    if len(components) == 0:  # the cropped label map is empty then
        return []
    row0, col0 = components.origin
    return [(s[0].start + row0, s[1].start + col0, s[0].stop - 1 + row0,
             s[1].stop - 1 + col0)
            for s in ndimage.find_objects(components.label_map, len(components))]


def _draw_box(canvas: np.ndarray, box: Tuple[int, int, int, int], scale: int,
              color: Tuple[int, int, int], margin: int, tag: str) -> None:
    """Box with a margin (tiny targets stay visible) and a short text tag."""
    top, left, bottom, right = box
    x0, y0 = left * scale - margin, top * scale - margin
    cv2.rectangle(canvas, (x0, y0),
                  ((right + 1) * scale - 1 + margin, (bottom + 1) * scale - 1 + margin),
                  color, 2, cv2.LINE_AA)
    text_y = y0 - 4 if y0 >= 14 else (bottom + 1) * scale + margin + 13
    cv2.putText(canvas, tag, (max(x0, 0), text_y), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                color, 1, cv2.LINE_AA)


def _outline(canvas: np.ndarray, mask: np.ndarray, scale: int,
             color: Tuple[int, int, int], thickness: int = 1) -> None:
    big = cv2.resize(mask.astype(np.uint8), None, fx=scale, fy=scale,
                     interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(canvas, contours, -1, color, thickness, cv2.LINE_8)


def _legend(width: int, detection: ImageDetection, title: Optional[str]) -> np.ndarray:
    font, font_scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1
    line_height = 22
    missed = detection.num_targets - detection.num_detected
    false_alarms = int((~detection.match.prediction_matched).sum())
    entries = [
        ('hit', f'hit {detection.num_detected}/{detection.num_targets}'),
        ('missed', f'missed {missed}'),
        ('false_alarm', f'false alarm {false_alarms} '
         f'({detection.false_alarm_pixels} px)'),
        ('ground_truth', 'ground-truth outline'),
    ]
    # Lay entries out left to right, wrapping when the strip is full.
    lines, line, used = [], [], 8
    for key, text in entries:
        entry_width = 22 + cv2.getTextSize(text, font, font_scale, thickness)[0][0] + 16
        if line and used + entry_width > width:
            lines.append(line)
            line, used = [], 8
        line.append((key, text, used))
        used += entry_width
    lines.append(line)
    rows = len(lines) + (title is not None)
    strip = np.full((rows * line_height + 8, width, 3), 32, np.uint8)
    y = 6
    if title is not None:
        cv2.putText(strip, title, (8, y + 14), font, font_scale, (235, 235, 235),
                    thickness, cv2.LINE_AA)
        y += line_height
    for line in lines:
        for key, text, x in line:
            cv2.rectangle(strip, (x, y + 3), (x + 14, y + 17), OUTCOME_COLORS[key], -1)
            cv2.putText(strip, text, (x + 22, y + 15), font, font_scale,
                        (235, 235, 235), thickness, cv2.LINE_AA)
        y += line_height
    return strip


def draw_detection_overlay(image: np.ndarray,
                           detection: ImageDetection,
                           title: Optional[str] = None,
                           min_display_size: int = 512) -> np.ndarray:
    """Draw ``detection`` on ``image`` and return a BGR ``uint8`` picture.

    Predicted components that hit a target get a green box tagged "hit",
    false alarms a red box tagged "FA", missed targets a yellow box tagged
    "miss"; every ground-truth target is outlined in cyan and every
    prediction outlined in its box colour.

    Args:
        image: the input image (gray, BGR or BGRA, as ``cv2.imread`` gives).
        detection: the outcome from :func:`detect_targets` for this image.
        title: text above the legend (e.g. the file name).
        min_display_size: the image is enlarged by an integer factor until
            its longer side reaches at least this many pixels.
    """
    image = _as_bgr(image)
    height, width = image.shape[:2]
    scale = max(1, int(np.ceil(min_display_size / max(height, width))))
    canvas = cv2.resize(image, None, fx=scale, fy=scale,
                        interpolation=cv2.INTER_NEAREST)
    margin = max(6, 3 * scale)

    predictions = detection.predictions.full_label_map((height, width))
    matched = detection.match.prediction_matched
    for index, box in enumerate(_boxes(detection.predictions)):
        color = OUTCOME_COLORS['hit' if matched[index] else 'false_alarm']
        _outline(canvas, predictions == index + 1, scale, color)
        _draw_box(canvas, box, scale, color, margin,
                  'hit' if matched[index] else 'FA')
    targets = detection.targets.full_label_map((height, width))
    _outline(canvas, targets > 0, scale, OUTCOME_COLORS['ground_truth'], 2)
    detected = detection.match.target_detected
    for index, box in enumerate(_boxes(detection.targets)):
        if not detected[index]:
            _draw_box(canvas, box, scale, OUTCOME_COLORS['missed'], margin + 3,
                      'miss')
    return np.concatenate([canvas, _legend(canvas.shape[1], detection, title)])


def draw_ground_truth_overlay(image: np.ndarray,
                              target_mask: np.ndarray,
                              title: Optional[str] = None,
                              min_display_size: int = 512,
                              connectivity: int = DEFAULT_CONNECTIVITY) -> np.ndarray:
    """Draw only the ground truth (browsing a dataset, no prediction yet).

    Every target (a ``connectivity``-connected component, as the metric
    counts it) is outlined and boxed in the ground-truth colour on the enlarged
    image; the strip below gives the title and the count. Returns a BGR
    ``uint8`` picture; ``image`` as for :func:`draw_detection_overlay`.
    """
    return _draw_mask_overlay(image, target_mask, title, min_display_size,
                              OUTCOME_COLORS['ground_truth'], 'target', connectivity)


def draw_prediction_overlay(image: np.ndarray,
                            predicted_mask: np.ndarray,
                            title: Optional[str] = None,
                            min_display_size: int = 512,
                            connectivity: int = DEFAULT_CONNECTIVITY) -> np.ndarray:
    """Draw only the prediction (inference on an image without a mask).

    As :func:`draw_ground_truth_overlay`, in the prediction colour: nothing
    can be called a hit or a false alarm without ground truth.
    """
    return _draw_mask_overlay(image, predicted_mask, title, min_display_size,
                              OUTCOME_COLORS['prediction'], 'detection', connectivity)


def _draw_mask_overlay(image: np.ndarray, mask: np.ndarray, title: Optional[str],
                       min_display_size: int, color: Tuple[int, int, int],
                       noun: str, connectivity: int) -> np.ndarray:
    image = _as_bgr(image)
    height, width = image.shape[:2]
    scale = max(1, int(np.ceil(min_display_size / max(height, width))))
    canvas = cv2.resize(image, None, fx=scale, fy=scale,
                        interpolation=cv2.INTER_NEAREST)
    mask = np.asarray(mask, bool)
    _outline(canvas, mask, scale, color, 2)
    components = label_components(mask, connectivity)
    for box in _boxes(components):
        _draw_box(canvas, box, scale, color, max(6, 3 * scale), noun)
    lines = [text for text in (title, f'{len(components)} {noun}(s)') if text is not None]
    strip = np.full((len(lines) * 22 + 8, canvas.shape[1], 3), 32, np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(strip, text, (8, 20 + 22 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (235, 235, 235), 1, cv2.LINE_AA)
    return np.concatenate([canvas, strip])
