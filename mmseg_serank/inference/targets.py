"""``targets.csv`` records: the predicted targets exactly as IRSTDMetric counts them."""
from pathlib import Path
from typing import List

import numpy as np
from scipy import ndimage

from ..evaluation.functional import label_components

__all__ = ['TARGET_FIELDS', 'target_records']

TARGET_FIELDS = ('image', 'target', 'centroid_x', 'centroid_y', 'area',
                 'bbox_x', 'bbox_y', 'bbox_w', 'bbox_h', 'peak_score', 'path')


def target_records(image: str, mask: np.ndarray, probability: np.ndarray, path: Path,
                   connectivity: int) -> List[dict]:
    """One record per predicted target of ``mask``.

    The targets are IRSTDMetric's predicted components
    (:func:`~mmseg_serank.evaluation.functional.label_components` with the
    metric's ``connectivity``), numbered 1, 2, ... in its (scikit-image)
    order, with its areas and centroids, so a row of ``targets.csv`` is the
    component the metric matched or called a false alarm.
    """
    components = label_components(mask, connectivity)
    if not len(components):
        return []
    labels = components.label_map
    top, left = components.origin
    window = probability[top:top + labels.shape[0], left:left + labels.shape[1]]
    peaks = np.zeros(len(components) + 1, np.float64)
    np.maximum.at(peaks, labels.ravel(), window.ravel())
    records = []
    for index, box in enumerate(ndimage.find_objects(labels, len(components))):
        row, col = components.centroids[index]
        records.append(dict(
            image=image, target=index + 1,
            centroid_x=round(float(col), 2), centroid_y=round(float(row), 2),
            area=int(components.areas[index]),
            bbox_x=box[1].start + left, bbox_y=box[0].start + top,
            bbox_w=box[1].stop - box[1].start, bbox_h=box[0].stop - box[0].start,
            peak_score=round(float(peaks[index + 1]), 4), path=str(path)))
    return records
