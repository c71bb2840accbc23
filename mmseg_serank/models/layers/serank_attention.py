"""Selective rank-aware (SeRank) attention, the reference's ``MaxChannel``."""
import math
from typing import Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

ATTENTION_NORMS = ('sample', 'batch')


def sinusoidal_position_term(rows: Tensor, cols: Tensor, table_size: int) -> Tensor:
    """``PE[r, c]`` of the reference's E x E sinusoidal table, for any r, c >= 0.

    ``PE[r, c] = sin(r * f(c))`` for even c and ``cos(r * f(c))`` for odd c, with
    ``f(c) = exp(-(c - c % 2) * ln(10000) / E)``. Evaluating the formula instead
    of indexing a stored table removes the reference's limit H, W <= E. The
    float32 operation order matches the reference's table construction.
    """
    even_cols = cols - cols % 2
    frequency = torch.exp(even_cols.to(torch.float32) *
                          (-math.log(10000.0) / table_size))
    angle = rows.to(torch.float32) * frequency
    return torch.where(cols % 2 == 0, torch.sin(angle), torch.cos(angle))


def traceable_min(limit: int, size: Union[int, Tensor]) -> Union[int, Tensor]:
    """``min(limit, size)`` that stays a graph operation under ONNX tracing.

    While ``torch.jit`` traces, tensor sizes are 0-dim tensors; Python's
    ``min`` would turn the comparison into a constant of the traced size.
    """
    if isinstance(size, Tensor):
        return size.clamp(max=limit)
    return min(limit, size)


def rank_positions(flat: Tensor, k: Union[int, Tensor]) -> Tensor:
    """Positions of the ``k`` largest values of each row of ``flat``, ascending.

    Values tied with the k-th largest are taken from the lowest positions
    first. ``torch.topk`` leaves that choice to the implementation (OpenVINO's
    TopK differs from PyTorch's and ONNX Runtime's), yet it decides which
    positional codes are added, so a backend-independent rule is needed for
    equal outputs: after ReLU, whole channels or their low ranks are exact
    zeros. Rows without such a tie get the plain top-K set.
    """
    if torch.jit.is_tracing():
        # One graph for every input: the rule itself, whatever the backend's TopK does.
        kth = torch.topk(flat, k, dim=-1).values[..., -1:]
        return _lowest_position_ties(flat, kth, k)
    # The (k+1)-th value tells whether the k-th is tied with an unselected one.
    values, indices = torch.topk(flat, min(k + 1, flat.shape[-1]), dim=-1)
    positions = indices[..., :k].sort(dim=-1).values
    if values.shape[-1] > k:
        tied = values[..., k - 1] == values[..., k]
        if tied.any():  # the exact rule on the rows that need it (~10x slower)
            rows = tied.nonzero(as_tuple=True)
            positions[rows] = _lowest_position_ties(flat[rows], values[rows][..., k - 1:k], k)
    return positions


def _lowest_position_ties(flat: Tensor, kth: Tensor, k: Union[int, Tensor]) -> Tensor:
    """The ``k`` positions of values above ``kth`` plus the lowest ones equal to it."""
    above = flat > kth
    tied = flat == kth
    room = k - above.sum(dim=-1, keepdim=True)
    chosen = above | (tied & (tied.int().cumsum(dim=-1) <= room))
    # exactly k positions per row; nonzero lists them row by row, ascending
    return chosen.nonzero()[:, -1].view(*flat.shape[:-1], k)


class SeRankAttention(nn.Module):
    """Channel attention computed from each channel's K strongest responses.

    For every channel the top-K activations are picked, kept in raster order
    and tagged with a sinusoidal code of their position; two linear maps of
    these K-vectors give a C x C channel affinity that, standardised and
    softmax-normalised, mixes the channels of the full map (plus a residual).
    Ranking by value lets a few bright target pixels steer the attention even
    when they are a tiny fraction of the image.

    Args:
        topk (int): K, the number of selected positions per channel (also the
            input size of the projections). When a map has fewer than K
            positions all of them are used and the selected vector is
            zero-padded to K, which equals using the first H*W columns of the
            projection weights.
        pos_table_size (int): E, the size of the reference's positional table;
            it sets the frequencies of the positional code.
        attention_norm (str): 'sample' standardises the affinity with the mean
            and (unbiased) std of each image, so a prediction does not depend on
            the rest of the batch; 'batch' uses the statistics of the whole
            batch tensor as the reference does (its issue #7).
    """

    def __init__(self, topk: int, pos_table_size: int,
                 attention_norm: str = 'sample', eps: float = 1e-5) -> None:
        super().__init__()
        if attention_norm not in ATTENTION_NORMS:
            raise ValueError(f'attention_norm must be one of {ATTENTION_NORMS}, '
                             f'got {attention_norm!r}')
        if topk < 1 or pos_table_size < 1:
            raise ValueError(f'topk and pos_table_size must be positive, got '
                             f'{topk} and {pos_table_size}')
        self.topk = topk
        self.pos_table_size = pos_table_size
        self.attention_norm = attention_norm
        self.eps = eps
        self.query_proj = nn.Linear(topk, 2 * topk, bias=False)
        self.key_proj = nn.Linear(topk, 2 * topk, bias=False)

    def select_ranked(self, x: Tensor) -> Tensor:
        """Top-K values per channel in raster order plus their position code."""
        _, _, _, width = x.shape
        flat = x.flatten(2)
        k = traceable_min(self.topk, flat.shape[-1])
        indices = rank_positions(flat, k)
        selected = torch.gather(flat, 2, indices)
        selected = selected + sinusoidal_position_term(
            indices // width, indices % width, self.pos_table_size).to(selected)
        # zero-pad to K when the map has fewer positions (a no-op otherwise)
        return F.pad(selected, (0, self.topk - k))

    def standardise(self, affinity: Tensor) -> Tensor:
        if self.attention_norm == 'batch':
            mean, std = affinity.mean(), affinity.std()
        else:
            flat = affinity.flatten(1)
            mean = flat.mean(dim=1).view(-1, 1, 1)
            std = flat.std(dim=1).view(-1, 1, 1)
        return (affinity - mean) / (std + self.eps)

    def forward(self, x: Tensor) -> Tensor:
        selected = self.select_ranked(x)
        query = self.query_proj(selected)
        key = self.key_proj(selected)
        # The affinity sums 2K products of unbounded activations: in float16
        # (AMP) it overflows to inf within the first epoch and the
        # standardisation turns that into NaN. It is a C x C matrix, so
        # computing it, its statistics and the softmax in float32 costs little.
        with torch.autocast(device_type=x.device.type, enabled=False):
            affinity = torch.matmul(query.float(), key.float().transpose(1, 2))
            attention = self.standardise(affinity).softmax(dim=-1)
        out = torch.matmul(attention.to(x.dtype), x.flatten(2))
        return out.view_as(x) + x

    def extra_repr(self) -> str:
        return (f'topk={self.topk}, pos_table_size={self.pos_table_size}, '
                f'attention_norm={self.attention_norm!r}')
