"""Bottom/right zero padding to a size multiple, and the crop that undoes it.

The authors' IRSTD networks need H and W divisible by 16 or 32. Padding
inside the model (bottom and right only) and cropping the maps back keeps
pixel (0, 0) in place, so native-resolution testing works at any size and
every output is aligned with the label without resampling.
"""
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor

__all__ = ['crop_to', 'pad_to_multiple']


def pad_to_multiple(x: Tensor, divisor: int) -> Tensor:
    """``x`` zero-padded at the bottom and right to multiples of ``divisor``.

    No Python branch on the sizes: under ONNX tracing they are graph values,
    so an exported model pads whatever size it is given.
    """
    height, width = x.shape[-2:]
    return F.pad(x, (0, -width % divisor, 0, -height % divisor))


def crop_to(x: Tensor, size: Sequence[int], what: str = 'target') -> Tensor:
    """The top-left ``size`` window of ``x`` (the inverse of :func:`pad_to_multiple`)."""
    height, width = x.shape[-2:]
    if size[0] > height or size[1] > width:
        raise ValueError(f'the {what} size {tuple(size)} exceeds the output map '
                         f'size {(height, width)}')
    return x[..., :size[0], :size[1]]
