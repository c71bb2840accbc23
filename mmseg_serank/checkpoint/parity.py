"""Seeded weights and outputs for checking a peer port against the authors' code.

``tools/analysis_tools/verify_peer_parity.py`` fills the authors' network with
:func:`seeded_state` (a pure function of the key names, shapes and seed),
converts it and compares both networks' probabilities. It also writes a small
fixture (the authors' key names and shapes, the seed, inputs and the authors'
probabilities at :data:`FIXTURE_SHAPES`), from which the tests rebuild the same
authors' weights without the authors' code and check converter and model.
"""
import zlib
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import Tensor, nn

from .peers import PeerSpec, repo_config

__all__ = [
    'CHECK_SHAPES', 'FIXTURE_SHAPES', 'TOLERANCE', 'build_ours', 'our_probability',
    'parity_inputs', 'seeded_state'
]

# (batch, height, width) of the checks against the authors' code ...
CHECK_SHAPES: Tuple[Tuple[int, int, int], ...] = ((1, 256, 256), (2, 128, 192))
# ... and of the fixture kept for CI (small: the fixture stores the outputs).
FIXTURE_SHAPES: Tuple[Tuple[int, int, int], ...] = ((1, 64, 64), (2, 32, 64))
# Largest allowed probability difference (the authors' float32 vs float64
# noise is about 2e-6).
TOLERANCE = 1e-4


def _generator(seed: int, key: str) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(key.encode()))


def _seeded_tensor(key: str, like: Tensor, seed: int, is_norm: bool) -> Tensor:
    """A value for ``key`` that exercises every path of a network in eval mode."""
    if not like.is_floating_point():
        return like.clone()  # e.g. num_batches_tracked
    gen = _generator(seed, key)
    shape = like.shape
    leaf = key.rsplit('.', 1)[-1]
    if leaf == 'running_var':
        return torch.empty(shape).uniform_(0.5, 2.0, generator=gen).to(like.dtype)
    if leaf == 'running_mean':
        return (0.1 * torch.randn(shape, generator=gen)).to(like.dtype)
    if like.dim() >= 2:  # conv / linear / embedding: He-scaled
        fan_in = max(like.numel() // shape[0], 1)
        return (torch.randn(shape, generator=gen) * (2.0 / fan_in)**0.5).to(like.dtype)
    if is_norm and leaf == 'weight' or leaf == 'weight' and like.dim() == 1:
        return torch.empty(shape).uniform_(0.5, 1.5, generator=gen).to(like.dtype)
    if like.dim() == 0 or like.numel() == 1:  # learnt scalars (gammas, scales)
        return torch.empty(shape).uniform_(0.2, 1.0, generator=gen).to(like.dtype)
    return (0.1 * torch.randn(shape, generator=gen)).to(like.dtype)


def seeded_state(template: Dict[str, Tensor], seed: int) -> 'OrderedDict[str, Tensor]':
    """Seeded values for every entry of ``template`` (keys, shapes, dtypes).

    Each tensor depends only on its key, shape and ``seed``, so the same
    authors' weights are rebuilt from a list of keys and shapes. Norm layers
    get non-trivial running statistics and affine parameters.
    """
    norm_prefixes = {key.rsplit('.', 1)[0] for key in template
                     if key.endswith('running_mean')}
    return OrderedDict(
        (key, _seeded_tensor(key, value, seed, key.rsplit('.', 1)[0] in norm_prefixes))
        for key, value in template.items())


def parity_inputs(in_channels: int, shape: Sequence[int], seed: int) -> Tensor:
    """A normalised input batch (batch, in_channels, height, width)."""
    batch, height, width = shape
    gen = torch.Generator().manual_seed(seed + 7919 * height + width)
    return torch.randn(batch, in_channels, height, width, generator=gen)


def build_ours(peer: PeerSpec, cfg_options: Optional[dict] = None) -> nn.Module:
    """The segmentor of the peer's config (the authors' default network)."""
    cfg = Config.fromfile(repo_config(peer.config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope('mmseg')
    return MODELS.build(cfg.model)


@torch.no_grad()
def our_probability(model: nn.Module, inputs: Tensor) -> Tensor:
    """sigmoid(encode_decode) of an already normalised batch, in eval mode."""
    model.eval()
    size = tuple(inputs.shape[-2:])
    metas: List[dict] = [dict(img_shape=size, pad_shape=size, ori_shape=size)
                         for _ in range(inputs.shape[0])]
    logits = model.encode_decode(inputs, metas)
    if tuple(logits.shape) != (inputs.shape[0], 1, *size):
        raise ValueError(f'encode_decode gave {tuple(logits.shape)}, expected '
                         f'{(inputs.shape[0], 1, *size)}')
    return logits.sigmoid()
