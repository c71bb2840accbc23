"""Loaders for IR images and binary target masks.

mmseg's ``LoadImageFromFile`` keeps only the top byte of 16-bit frames and
mmseg's ``LoadAnnotations`` keeps 0/255 masks as they are, so every target
pixel becomes ``ignore_index`` (255) and silently leaves loss and metric. The
loaders here decode every format IRSTD sets use (see
:mod:`mmseg_serank.datasets.ir_image_io`) and always produce {0, 1} masks.
"""
import logging
import os
from typing import Optional, Sequence, Set, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from ..ir_image_io import (
    HIGH_BIT_DEPTH_MODES,
    binarize_mask,
    ir_array_to_bgr,
    read_binary_mask,
    read_ir_image,
)

#: Relative aspect-ratio difference below which a mask of another size is taken
#: to be a uniformly rescaled copy of its image's mask.
SCALED_MASK_ASPECT_TOLERANCE = 0.01

_warned_scaled_masks: Set[str] = set()


def is_rescaled_shape(mask_shape: Sequence[int], image_shape: Sequence[int]) -> bool:
    """Whether two (H, W) shapes differ but have the same aspect ratio."""
    mask_h, mask_w = mask_shape[:2]
    image_h, image_w = image_shape[:2]
    if (mask_h, mask_w) == (image_h, image_w):
        return False
    ratio = (mask_w / mask_h) / (image_w / image_h)
    return abs(ratio - 1.0) <= SCALED_MASK_ASPECT_TOLERANCE


def fit_mask_to_image(mask: np.ndarray, results: dict, resize_scaled_masks: bool) -> np.ndarray:
    """Return ``mask`` at the image's ``ori_shape`` or raise naming both files.

    A mask of the image's aspect ratio but another size (SIRST's Misc_111 mask
    is 592x400 for a 325x220 image) is resized by nearest neighbour when
    ``resize_scaled_masks`` is set, which is what the reference's joint PIL
    resizing amounts to; any other mismatch is an error.
    """
    image_shape = results.get('ori_shape')
    if image_shape is None or tuple(mask.shape[:2]) == tuple(image_shape[:2]):
        return mask
    mask_path, img_path = results.get('seg_map_path'), results.get('img_path')
    description = (f'mask {mask_path} is {mask.shape[1]}x{mask.shape[0]} (WxH) but '
                   f'image {img_path} is {image_shape[1]}x{image_shape[0]}')
    if not (resize_scaled_masks and is_rescaled_shape(mask.shape, image_shape)):
        raise ValueError(description)
    if mask_path not in _warned_scaled_masks:
        _warned_scaled_masks.add(mask_path)
        print_log(f'{description}; same aspect ratio, so the mask is resized '
                  f'(nearest neighbour) to the image size', logger='current',
                  level=logging.WARNING)
    return cv2.resize(mask, (image_shape[1], image_shape[0]),
                      interpolation=cv2.INTER_NEAREST)


@TRANSFORMS.register_module()
class LoadIRImageFromFile(BaseTransform):
    """Load any IR image as a 3-channel BGR uint8 array, like ``LoadImageFromFile``.

    Grey, RGB, RGBA (alpha dropped), palette, BMP, TIFF and 16-bit files are
    accepted; truncated or corrupt files raise an error naming the file.
    Without an ``img_path`` an array already in ``img`` (as ``mmseg.apis``
    inference passes it: grey, BGR or BGRA, any bit depth, as
    ``cv2.imread(path, cv2.IMREAD_UNCHANGED)`` returns it) is converted the
    same way, so an array and its file give the same input.

    Required keys: ``img_path`` or ``img``. Added keys: ``img``, ``img_shape``,
    ``ori_shape`` (``img_path`` None for an array).

    Args:
        high_bit_depth: how frames deeper than 8 bits reach 0..255: ``'minmax'``
            (per-image stretch, default), ``'percentile'`` (stretch between
            ``percentiles``, robust to hot pixels) or ``'shift'`` (top 8 bits).
        percentiles: low/high percentiles for ``'percentile'``.
        to_float32: return float32 instead of uint8, as mmseg's loader can.
        backend_args: the storage to read from (``mmengine.fileio.get``), as
            mmseg's loader takes it; None reads local files.
    """

    def __init__(self, high_bit_depth: str = 'minmax',
                 percentiles: Tuple[float, float] = (0.5, 99.5),
                 to_float32: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        if high_bit_depth not in HIGH_BIT_DEPTH_MODES:
            raise ValueError(f'high_bit_depth must be one of {HIGH_BIT_DEPTH_MODES}, '
                             f'got {high_bit_depth!r}')
        self.high_bit_depth = high_bit_depth
        self.percentiles = tuple(percentiles)
        self.to_float32 = to_float32
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        if results.get('img_path') is not None:
            img = read_ir_image(results['img_path'], self.high_bit_depth, self.percentiles,
                                self.backend_args)
        elif isinstance(results.get('img'), np.ndarray):
            img = ir_array_to_bgr(results['img'], self.high_bit_depth, self.percentiles)
            results['img_path'] = None
        else:
            raise KeyError(f'{self.__class__.__name__} needs an img_path or an image '
                           f'array in img, got keys {sorted(results)}')
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(high_bit_depth={self.high_bit_depth!r}, '
                f'percentiles={self.percentiles}, to_float32={self.to_float32}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadIRAnnotations(BaseTransform):
    """Load a target mask of any format as a {0, 1} uint8 ``gt_seg_map``.

    Any nonzero value is target (for colour masks any nonzero channel, for
    palette masks any nonzero index), so a target is never ``ignore_index``.
    Place it after the image loader: a mask whose size differs from the image's
    ``ori_shape`` raises an error naming both files, except a uniformly
    rescaled mask, which is resized to the image (see :func:`fit_mask_to_image`).

    Required keys: ``seg_map_path`` (and ``ori_shape``, ``img_path`` for the size
    check). Added keys: ``gt_seg_map``; ``'gt_seg_map'`` appended to ``seg_fields``.
    A sample without ``seg_map_path`` (or with None) passes unchanged: that is
    inference on a test pipeline (``mmseg.apis.inference_model``), not a dataset
    sample, whose masks :class:`~mmseg_serank.datasets.IRSTDDataset` checks
    when it is built.

    Args:
        resize_scaled_masks: resize a mask with the image's aspect ratio but
            another size instead of raising (with a warning once per file).
        backend_args: as in :class:`LoadIRImageFromFile`.
    """

    def __init__(self, resize_scaled_masks: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.resize_scaled_masks = resize_scaled_masks
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        if results.get('seg_map_path') is None:
            return results
        mask = read_binary_mask(results['seg_map_path'], self.backend_args)
        mask = fit_mask_to_image(mask, results, self.resize_scaled_masks)
        results['gt_seg_map'] = mask
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(resize_scaled_masks={self.resize_scaled_masks}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class BinarizeMask(BaseTransform):
    """Turn an already loaded ``gt_seg_map`` into {0, 1}: for use after mmseg's loader.

    A sample without that key (inference, no mask loaded) passes unchanged.

    Args:
        key: the results key holding the mask.
        resize_scaled_masks: as in :class:`LoadIRAnnotations`.
    """

    def __init__(self, key: str = 'gt_seg_map', resize_scaled_masks: bool = True) -> None:
        self.key = key
        self.resize_scaled_masks = resize_scaled_masks

    def transform(self, results: dict) -> dict:
        if results.get(self.key) is None:
            return results
        mask = binarize_mask(np.asarray(results[self.key]))
        results[self.key] = fit_mask_to_image(mask, results, self.resize_scaled_masks)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, '
                f'resize_scaled_masks={self.resize_scaled_masks})')


@TRANSFORMS.register_module()
class IRInferencerLoader(LoadIRImageFromFile):
    """:class:`LoadIRImageFromFile` for inferencers, which pass each input as
    it is: a path, an image array or a results dict (mmseg's
    ``InferencerLoader`` does the same for ``LoadImageFromFile``)."""

    def transform(self, results: Union[str, os.PathLike, np.ndarray, dict]) -> dict:
        if isinstance(results, (str, os.PathLike)):
            results = dict(img_path=os.fspath(results))
        elif isinstance(results, np.ndarray):
            results = dict(img=results)
        elif not isinstance(results, dict):
            raise TypeError(f'{self.__class__.__name__} takes a path, an image array or '
                            f'a dict, got {type(results).__name__}')
        return super().transform(dict(results))
