"""Helpers shared by the evaluation tests: mmseg-style data samples."""
from typing import Callable, Optional

import numpy as np
import pytest
import torch

import mmseg_serank  # noqa: F401  (registers the metric and hook)


def sample_dict(probability: np.ndarray, target: np.ndarray,
                img_path: Optional[str] = None) -> dict:
    """What mmengine's Evaluator hands to ``process`` for one image."""
    sample = dict(
        seg_logits=dict(data=torch.as_tensor(probability, dtype=torch.float32)[None]),
        gt_sem_seg=dict(data=torch.as_tensor(target.astype(np.int64))[None]))
    if img_path is not None:
        sample['img_path'] = img_path
    return sample


@pytest.fixture
def make_sample() -> Callable[..., dict]:
    return sample_dict


def random_blob_masks(rng: np.random.Generator, count: int, size: int = 48):
    """Pairs (probability, target) of small blobs and imperfect predictions."""
    import cv2

    pairs = []
    for _ in range(count):
        target = np.zeros((size, size), np.uint8)
        for _ in range(rng.integers(0, 5)):
            row, col = rng.integers(0, size, 2)
            target[row, col] = 1
        target = cv2.dilate(target, np.ones(rng.integers(1, 4, 2), np.uint8))
        shifted = np.roll(target, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
        noise = rng.random((size, size)) > 0.985
        probability = np.clip(0.7 * shifted + 0.6 * noise + 0.2 * rng.random(
            (size, size)), 0, 1).astype(np.float32)
        pairs.append((probability, target.astype(bool)))
    return pairs


@pytest.fixture
def blob_masks() -> Callable[..., list]:
    return random_blob_masks
