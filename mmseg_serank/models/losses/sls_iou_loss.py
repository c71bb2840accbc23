"""Scale and location sensitive IoU loss of MSHNet (Liu et al., CVPR 2024), with its warm-up."""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmseg.registry import MODELS
from torch import Tensor

from .soft_iou_loss import masked_probability_and_truth

__all__ = ['SLSIoULoss']

# Keeps an IoU or ratio finite where both of its sums are zero (a wholly
# ignored image); far below any sum of sigmoids over a real map.
TINY = 1e-12
# The authors' guard in the centre ratios and lengths; part of the loss value.
CENTRE_EPS = 1e-8


@MODELS.register_module()
class SLSIoULoss(nn.Module):
    """MSHNet's SLS loss: a scale-weighted IoU loss plus a centre-location penalty.

    Per image, with P = sum(sigmoid(pred)), T = sum(target), I = sum of their
    product and ``iou = I / (P + T - I)``:

    * scale: ``alpha = (min(P, T) + d) / (max(P, T) + d)``, ``d = ((P - T) / 2)**2``,
      so a prediction of the wrong size (not only the wrong overlap) costs;
    * location: the "centres" ``c = mean over pixels of (x / W, y / H) * map`` of
      the prediction and the target (the authors divide by H * W, not by the
      mass) compared by angle, ``4 / pi**2 * (atan(cy / cx) - atan(ty / tx))**2``,
      and by length, ``1 - min(|c|, |t|) / max(|c|, |t|)``.

    The loss is ``1 - mean(alpha * iou) + mean(location)``. During the warm-up
    it is the plain ``1 - mean(iou)`` instead, as the authors' first epochs
    (their model then trains only the full-resolution head ``output_0``;
    :class:`MSHNetHead` does the same while :meth:`in_warm_up` is true).

    The warm-up follows mmengine's runner through the current
    :class:`MessageHub` (its ``epoch`` / ``iter`` runtime info, 0-based): it
    lasts while the index is ``<= warm_epoch`` (resp. ``warm_iter``), the
    authors' ``epoch > warm_epoch`` switch, so ``warm_epoch=5`` is six warm
    epochs and -1 is none. Outside a runner (no such info) there is no warm-up.
    An iteration-based loop never advances ``epoch``: use ``warm_iter`` there.

    Args:
        warm_epoch (int, optional): Last warm-up epoch (the authors: 5).
        warm_iter (int, optional): Last warm-up iteration, for iteration-based
            schedules; when set, ``warm_epoch`` must be None.
        with_location (bool): Add the location term after the warm-up (the
            authors' ``with_shape``, True).
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the loss dict (starts with ``loss_``).
    """

    def __init__(self,
                 warm_epoch: Optional[int] = 5,
                 warm_iter: Optional[int] = None,
                 with_location: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_slsiou') -> None:
        super().__init__()
        if (warm_epoch is None) == (warm_iter is None):
            raise ValueError('SLSIoULoss: set exactly one of warm_epoch (epoch-based '
                             'loops) and warm_iter (iteration-based loops); -1 means no '
                             f'warm-up; got warm_epoch={warm_epoch}, warm_iter={warm_iter}')
        self.warm_epoch = warm_epoch
        self.warm_iter = warm_iter
        self.with_location = with_location
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def in_warm_up(self) -> bool:
        """Whether the runner's current epoch (iteration) is still a warm-up one."""
        if self.warm_iter is not None:
            key, last = 'iter', self.warm_iter
        else:
            key, last = 'epoch', self.warm_epoch
        index = MessageHub.get_current_instance().get_info(key)
        return index is not None and index <= last

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = 255,
                **kwargs) -> Tensor:
        """Args: pred (B, 1, H, W) or (B, H, W) logits; target (B, H, W) in {0, 1},
        ``ignore_index`` pixels excluded; weight: optional per-pixel weight
        broadcastable to (B, H, W)."""
        prob, truth = masked_probability_and_truth(pred, target, weight, ignore_index,
                                                   'SLSIoULoss')
        intersection = (prob * truth).sum(dim=(1, 2))
        pred_sum = prob.sum(dim=(1, 2))
        truth_sum = truth.sum(dim=(1, 2))
        iou = intersection / (pred_sum + truth_sum - intersection).clamp_min(TINY)
        if self.in_warm_up():
            return self.loss_weight * (1.0 - iou.mean())
        spread = ((pred_sum - truth_sum) / 2)**2
        alpha = ((torch.minimum(pred_sum, truth_sum) + spread) /
                 (torch.maximum(pred_sum, truth_sum) + spread).clamp_min(TINY))
        loss = 1.0 - (alpha * iou).mean()
        if self.with_location:
            loss = loss + location_penalty(prob, truth).mean()
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name


def _centre(maps: Tensor) -> Tensor:
    """(B, 2) mean of (x / W, y / H) * map over all pixels of each (B, H, W) map."""
    height, width = maps.shape[-2:]
    xs = torch.arange(width, dtype=maps.dtype, device=maps.device) / width
    ys = torch.arange(height, dtype=maps.dtype, device=maps.device) / height
    centre_x = (maps * xs).mean(dim=(1, 2))
    centre_y = (maps * ys[:, None]).mean(dim=(1, 2))
    return torch.stack([centre_x, centre_y], dim=1)


def location_penalty(prob: Tensor, truth: Tensor) -> Tensor:
    """Per-image angle + length mismatch of the prediction's and target's centres."""
    pred_c, truth_c = _centre(prob), _centre(truth)
    angle = (torch.atan(pred_c[:, 1] / (pred_c[:, 0] + CENTRE_EPS)) -
             torch.atan(truth_c[:, 1] / (truth_c[:, 0] + CENTRE_EPS)))
    angle_term = 4 / math.pi**2 * angle.square()
    pred_len = (pred_c.square().sum(dim=1) + CENTRE_EPS).sqrt()
    truth_len = (truth_c.square().sum(dim=1) + CENTRE_EPS).sqrt()
    length_ratio = (torch.minimum(pred_len, truth_len) /
                    (torch.maximum(pred_len, truth_len) + CENTRE_EPS))
    return 1.0 - length_ratio + angle_term
