"""Probability and mask of batches of images, from a PyTorch model or an exported one.

Both backends tile an image whose longer side exceeds ``max_side`` with the
same overlapping windows (mmseg's slide inference, logits averaged), so their
outputs agree and memory stays bounded. The mask is the model's one threshold:
the PyTorch model's ``pred_sem_seg`` (its head's ``threshold``, built from the
config) or, for an exported model, the probability above the config's
``model.decode_head.threshold`` (:func:`~mmseg_serank.thresholds.config_threshold`).
"""
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from ..apis import probability_and_mask
from ..deploy import DeployedModelError, build_runner
from ..deploy.slide import deployed_probability, slide_settings
from ..thresholds import config_threshold
from ..utils.cli import one_line
from .errors import InferenceError

__all__ = ['Segmenter', 'deployed_segmenter', 'pytorch_segmenter', 'size_batches',
           'tiled_if_large']

# A batch of samples -> (probability, mask) per sample, and whether it was tiled.
Segmenter = Callable[[List[dict]], Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]]


@contextmanager
def tiled_if_large(model: torch.nn.Module, shape: Sequence[int], max_side: int,
                   tile: int) -> Iterator[bool]:
    """Slide inference for images with a side above ``max_side`` (or all, if the
    config slides); yields whether this call tiles."""
    original = model.test_cfg
    settings = slide_settings(original, shape, max_side, tile)
    if settings is not None:
        model.test_cfg = ConfigDict(mode='slide', crop_size=settings[0], stride=settings[1])
    try:
        yield settings is not None
    finally:
        model.test_cfg = original


def pytorch_segmenter(model: torch.nn.Module, max_side: int, tile: int) -> Segmenter:
    """mmseg's test step: what ``inference_model`` returns, tiled when large."""
    def segment(batch: List[dict]) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]:
        data = pseudo_collate([dict(inputs=s['inputs'], data_samples=s['data_samples'])
                               for s in batch])
        with tiled_if_large(model, batch[0]['inputs'].shape[-2:], max_side,
                            tile) as tiled, torch.no_grad():
            results = model.test_step(data)
        return [probability_and_mask(result) for result in results], tiled
    return segment


def deployed_segmenter(cfg, backend: str, path: str, max_side: int, tile: int,
                       warn: Optional[Callable[[str], None]] = None) -> Segmenter:
    """An exported model (``backend`` runs ``path``, refused unless exported
    from the model ``cfg`` builds): raw pixels in, as the data preprocessor gets
    them, probabilities out; the mask is the probability above the config's threshold.

    Raises:
        InferenceError: the backend is missing or the file is not usable.
        ValueError: the config's threshold is outside [0, 1).
    """
    threshold = config_threshold(cfg)
    test_cfg = cfg.model.get('test_cfg') or {}
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        runner = build_runner(backend, path, cfg=cfg, warn=warn)
    except (ImportError, DeployedModelError, FileNotFoundError) as error:
        raise InferenceError(one_line(error)) from None

    def segment(batch: List[dict]) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]:
        images = np.stack([s['inputs'].numpy() for s in batch]).astype(np.float32)
        settings = slide_settings(test_cfg, images.shape[2:], max_side, tile)
        try:
            probabilities = deployed_probability(runner, images, settings)[:, 0]
        except DeployedModelError as error:
            raise InferenceError(f'{batch[0]["source_path"]}: {error}') from None
        return [(p, p > threshold) for p in probabilities], settings is not None
    return segment


def size_batches(samples: Iterator[dict], batch_size: int) -> Iterator[List[dict]]:
    """Consecutive samples of equal size, up to ``batch_size``: at most one
    batch of decoded images is held at a time."""
    batch: List[dict] = []
    for sample in samples:
        if batch and (len(batch) == batch_size
                      or sample['inputs'].shape != batch[0]['inputs'].shape):
            yield batch
            batch = []
        batch.append(sample)
    if batch:
        yield batch

