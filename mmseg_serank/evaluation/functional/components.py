"""Connected components of a binary mask in scikit-image's label order.

IRSTD's Pd/Fa matching (BasicIRSTD ``metrics.py``) is greedy: targets and
predicted components are visited in ``skimage.measure.label`` order, so the
order decides which component a target claims. OpenCV labels faster but in a
different order (its block-based scan), hence the reordering below. Small
targets leave most of an image empty, so only the bounding box of the
foreground is labelled.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

__all__ = ['Components', 'label_components']


@dataclass
class Components:
    """Connected components of one mask.

    Attributes:
        crop_labels: OpenCV's ``int32`` labels of the foreground's bounding
            box (OpenCV numbering; see :attr:`label_map`).
        raster_order: the OpenCV label of component ``k`` at index ``k``.
        origin: ``(row, col)`` of the bounding box's top-left pixel in the mask.
        pixel_indices: flat (raster) indices of all foreground pixels.
        areas: pixel count of each component, shape ``(N,)``.
        centroids: ``(row, col)`` mean pixel coordinate of each component in
            the mask, shape ``(N, 2)``, like ``regionprops().centroid``.
    """

    crop_labels: np.ndarray
    raster_order: np.ndarray
    origin: Tuple[int, int]
    pixel_indices: np.ndarray
    areas: np.ndarray
    centroids: np.ndarray

    def __len__(self) -> int:
        return len(self.areas)

    @property
    def label_map(self) -> np.ndarray:
        """Bounding-box map: 0 background, ``k + 1`` for component ``k``.

        Built on demand: scoring needs only areas and centroids, and
        renumbering a large box costs more than the labelling itself.
        """
        crop_to_label = np.zeros(len(self.raster_order) + 1, np.int32)
        crop_to_label[self.raster_order] = np.arange(1, len(self.raster_order) + 1,
                                                     dtype=np.int32)
        return crop_to_label[self.crop_labels]

    def full_label_map(self, shape: Tuple[int, int]) -> np.ndarray:
        """The label map placed in an array of the whole mask's ``shape``."""
        full = np.zeros(shape, np.int32)
        row, col = self.origin
        height, width = self.crop_labels.shape
        full[row:row + height, col:col + width] = self.label_map
        return full


def label_components(mask: np.ndarray,
                     connectivity: int = 8,
                     pixel_indices: Optional[np.ndarray] = None) -> Components:
    """Label the foreground of ``mask`` like ``skimage.measure.label``.

    Components are numbered in raster order of their first pixel, which is
    ``skimage.measure.label(mask, connectivity=2)`` for ``connectivity=8``
    (diagonal neighbours join) and ``connectivity=1`` for ``connectivity=4``.

    Args:
        mask: 2-D array, non-zero is foreground.
        connectivity: 8 or 4.
        pixel_indices: ``np.flatnonzero(mask)`` when the caller already has
            it (saves a pass over the image).
    """
    if connectivity not in (4, 8):
        raise ValueError(f'connectivity must be 4 or 8, got {connectivity}')
    if mask.ndim != 2:
        raise ValueError(f'expected a 2-D mask, got shape {mask.shape}')
    # The foreground's flat indices give its bounding box in one sparse pass.
    flat_foreground = np.flatnonzero(mask) if pixel_indices is None else pixel_indices
    if len(flat_foreground) == 0:
        return Components(np.zeros((0, 0), np.int32), np.zeros(0, np.int64), (0, 0),
                          flat_foreground, np.zeros(0, np.int64), np.zeros((0, 2)))
    rows, cols = np.divmod(flat_foreground, mask.shape[1])
    top, bottom = int(rows[0]), int(rows[-1])
    left, right = int(cols.min()), int(cols.max())
    origin = (top, left)
    # OpenCV takes the strided crop as it is (rows need not be contiguous).
    crop = mask[top:bottom + 1, left:right + 1]
    crop = crop.view(np.uint8) if crop.dtype == bool else (crop != 0).view(np.uint8)
    num_labels, cv_labels, stats, cv_centroids = cv2.connectedComponentsWithStats(
        crop, connectivity=connectivity, ltype=cv2.CV_32S)

    # The foreground pixels are already in raster order, so the first time
    # each OpenCV label occurs among them is its raster position; sorting by
    # that gives scikit-image's numbering.
    if num_labels == 2:  # one component: nothing to reorder
        raster_order = np.ones(1, np.int64)
    else:
        pixel_labels = cv_labels[rows - top, cols - left]
        # First raster position of each label in O(n): with repeated indices
        # numpy keeps the last write, so writing in reverse keeps the first.
        first_hit = np.empty(num_labels, np.int64)
        first_hit[pixel_labels[::-1]] = np.arange(len(pixel_labels) - 1, -1, -1)
        raster_order = 1 + np.argsort(first_hit[1:])
    areas = stats[raster_order, cv2.CC_STAT_AREA].astype(np.int64)
    # scikit-image divides the exact integer coordinate sum once; OpenCV does
    # the same in the crop, so recover the crop sums, shift them to the mask's
    # coordinates and divide once to get identical doubles.
    crop_sums = np.rint(cv_centroids[raster_order][:, ::-1] * areas[:, None])
    centroids = (crop_sums + np.asarray(origin) * areas[:, None]) / areas[:, None]
    return Components(cv_labels, raster_order, origin, flat_foreground, areas,
                      centroids)
