"""Image-only photometric augmentation of the SeRankDet reference pipeline."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS
from PIL import Image, ImageFilter


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """With probability ``prob``, blur the image with a radius drawn from ``radius_range``.

    Uses Pillow's ``ImageFilter.GaussianBlur`` (radius = standard deviation,
    applied per channel), exactly the reference's filter, so the blur strength
    matches; masks are not touched. Needs a uint8 image.

    Args:
        prob: probability of blurring.
        radius_range: ``(low, high)`` of the uniform radius (reference (0, 1)).
    """

    def __init__(self, prob: float = 0.5,
                 radius_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.radius_range = tuple(radius_range)

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        if img.dtype != np.uint8:
            raise TypeError(f'RandomGaussianBlur needs a uint8 image, got {img.dtype} '
                            f'({results.get("img_path")})')
        radius = float(np.random.uniform(*self.radius_range))
        blurred = Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius=radius))
        results['img'] = np.asarray(blurred).copy()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'radius_range={self.radius_range})')
