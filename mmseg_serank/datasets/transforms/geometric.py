"""Resizing and padding of the SeRankDet reference pipeline (SERANKDET.md section 2).

Training: rescale so the long side is U(0.5, 2.0) x base size
(:class:`RandomRescaleLongSide`), pad bottom/right with background up to the
crop size (:class:`PadToMinSize`), then mmseg's ``RandomCrop``. Testing in the
reference protocol: :class:`ResizeToBase`. Images are resized with Pillow by
default, as the reference does: Pillow's bilinear filter antialiases when
shrinking, OpenCV's does not, and small targets are sensitive to the difference.
"""
from typing import Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


def _resize_all(results: dict, width: int, height: int, backend: str) -> None:
    """Resize the image bilinearly and every seg field by nearest neighbour."""
    old_height, old_width = results['img'].shape[:2]
    results['img'] = mmcv.imresize(results['img'], (width, height),
                                   interpolation='bilinear', backend=backend)
    for key in results.get('seg_fields', []):
        results[key] = mmcv.imresize(results[key], (width, height),
                                     interpolation='nearest', backend=backend)
    results['img_shape'] = (height, width)
    results['scale_factor'] = (width / old_width, height / old_height)


@TRANSFORMS.register_module()
class RandomRescaleLongSide(BaseTransform):
    """Rescale keeping the aspect ratio so the long side is a random integer length.

    The length is drawn uniformly from ``[int(base_size * low), int(base_size *
    high)]`` (both ends included) and the short side is rounded to nearest.

    Args:
        base_size: the reference's base size (e.g. 512 for SIRST).
        ratio_range: ``(low, high)`` multipliers of ``base_size``.
        backend: ``'pillow'`` (reference behaviour, uint8 only) or ``'cv2'``.
    """

    def __init__(self, base_size: int,
                 ratio_range: Tuple[float, float] = (0.5, 2.0),
                 backend: str = 'pillow') -> None:
        low, high = ratio_range
        if not 0 < low <= high:
            raise ValueError(f'ratio_range must satisfy 0 < low <= high, got {ratio_range}')
        self.base_size = base_size
        self.ratio_range = (low, high)
        self.backend = backend

    def transform(self, results: dict) -> dict:
        low, high = self.ratio_range
        long_side = int(np.random.randint(int(self.base_size * low),
                                          int(self.base_size * high) + 1))
        height, width = results['img'].shape[:2]
        if height > width:
            new_height, new_width = long_side, int(width * long_side / height + 0.5)
        else:
            new_width, new_height = long_side, int(height * long_side / width + 0.5)
        _resize_all(results, max(new_width, 1), max(new_height, 1), self.backend)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(base_size={self.base_size}, '
                f'ratio_range={self.ratio_range}, backend={self.backend!r})')


@TRANSFORMS.register_module()
class PadToMinSize(BaseTransform):
    """Pad bottom and right so both sides reach ``size``; larger sides are kept.

    Unlike mmcv's ``Pad(size=...)`` it accepts images already larger than the
    crop in one direction, which is the common case after a random rescale.
    The mask is padded with background (0), never ``ignore_index``, so the
    border counts as true negatives like in the reference.

    Why not leave the padding to mmseg's ``SegDataPreProcessor(size=crop)``:
    that pads after the whole pipeline, so the Gaussian blur would no longer see
    the padded border as in the reference's order (rescale, pad, crop, blur),
    and every config would have to repeat its data crop size in the model's
    ``data_preprocessor``, coupling model and data configs.

    Args:
        size: minimum ``(height, width)``, or one int for both.
        pad_val: image padding value.
        seg_pad_val: mask padding value.
    """

    def __init__(self, size: Union[int, Tuple[int, int]], pad_val: float = 0,
                 seg_pad_val: int = 0) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        pad_bottom = max(self.size[0] - height, 0)
        pad_right = max(self.size[1] - width, 0)
        if pad_bottom == 0 and pad_right == 0:
            return results
        padding = (0, 0, pad_right, pad_bottom)
        results['img'] = mmcv.impad(results['img'], padding=padding,
                                    pad_val=self.pad_val)
        for key in results.get('seg_fields', []):
            results[key] = mmcv.impad(results[key], padding=padding,
                                      pad_val=self.seg_pad_val)
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, pad_val={self.pad_val}, '
                f'seg_pad_val={self.seg_pad_val})')


@TRANSFORMS.register_module()
class ResizeToBase(BaseTransform):
    """Resize image and mask to ``base_size x base_size`` and score there.

    This is the reference's test protocol. ``ori_shape`` is set to the new size
    on purpose: mmseg's segmentor resizes predictions back to ``ori_shape``, and
    the mask here is at base size, so both must agree for the metric.

    Args:
        base_size: side of the square output.
        backend: ``'pillow'`` (reference behaviour) or ``'cv2'``.
    """

    def __init__(self, base_size: int, backend: str = 'pillow') -> None:
        self.base_size = base_size
        self.backend = backend

    def transform(self, results: dict) -> dict:
        _resize_all(results, self.base_size, self.base_size, self.backend)
        results['ori_shape'] = (self.base_size, self.base_size)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(base_size={self.base_size}, '
                f'backend={self.backend!r})')
