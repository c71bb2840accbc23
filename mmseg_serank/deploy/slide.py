"""mmseg's slide inference for exported models, so large images are tiled alike.

``EncoderDecoder.slide_inference`` runs the model on overlapping windows, sums
their logits and divides by how many windows cover each pixel. An exported
model gives the logits too, so the same windows and the same float operations
give the PyTorch backend's result, with memory bounded by one window.
"""
from typing import Callable, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

Window = Tuple[int, int]


def slide_settings(test_cfg: Mapping, shape: Sequence[int], max_side: Optional[int] = None,
                   tile: Optional[int] = None) -> Optional[Tuple[Window, Window]]:
    """(crop_size, stride) for an image of ``shape`` (H, W), or None for whole.

    A config in slide mode always slides with its own settings; otherwise an
    image whose longer side exceeds ``max_side`` is cut into ``tile`` windows
    overlapping by a quarter (tools/infer.py's rule).
    """
    if test_cfg.get('mode', 'whole') == 'slide':
        return tuple(test_cfg['crop_size']), tuple(test_cfg['stride'])
    if max_side is not None and max(shape) > max_side:
        stride = max(1, tile * 3 // 4)
        return (tile, tile), (stride, stride)
    return None


def slide_logits(logits: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                 crop_size: Window, stride: Window) -> np.ndarray:
    """Window-averaged logits of N x 3 x H x W ``images``, as mmseg computes them."""
    (crop_h, crop_w), (stride_h, stride_w) = crop_size, stride
    height, width = images.shape[2:]
    rows = max(height - crop_h + stride_h - 1, 0) // stride_h + 1
    cols = max(width - crop_w + stride_w - 1, 0) // stride_w + 1
    total = None
    count = np.zeros((1, 1, height, width), np.float32)
    for row in range(rows):
        for col in range(cols):
            y2 = min(row * stride_h + crop_h, height)
            x2 = min(col * stride_w + crop_w, width)
            y1, x1 = max(y2 - crop_h, 0), max(x2 - crop_w, 0)
            window = logits(np.ascontiguousarray(images[:, :, y1:y2, x1:x2]))
            if total is None:
                total = np.zeros((images.shape[0], window.shape[1], height, width), np.float32)
            total[:, :, y1:y2, x1:x2] += window
            count[:, :, y1:y2, x1:x2] += 1
    return total / count


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """PyTorch's float32 sigmoid (the PyTorch backend's), without overflow warnings."""
    return torch.from_numpy(logits).sigmoid().numpy()


def deployed_probability(runner, images: np.ndarray,
                         settings: Optional[Tuple[Window, Window]]) -> np.ndarray:
    """An exported model's probability for ``images``: whole when ``settings``
    (from :func:`slide_settings`) is None, else the sigmoid of its window-averaged
    logits."""
    if settings is None:
        return runner(images)
    return sigmoid(slide_logits(runner.logits, images, *settings))
