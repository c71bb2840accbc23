"""Soft IoU loss on sigmoid probabilities, the SeRankDet training loss."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor


def masked_probability_and_truth(pred: Tensor, target: Tensor, weight: Optional[Tensor],
                                 ignore_index: Optional[int],
                                 loss: str) -> Tuple[Tensor, Tensor]:
    """(sigmoid probability, target indicator), (B, H, W) float32, both zero at
    ignored pixels and scaled by ``weight``: the inputs of IoU-shaped losses.

    Args: pred (B, 1, H, W) or (B, H, W) logits; target (B, H, W) in {0, 1};
    ``loss`` names the caller in errors. Sums over a batch of 512x512 maps exceed
    float16's range (65504), so under AMP they are computed in float32.
    """
    if pred.dim() == 4:
        if pred.shape[1] != 1:
            raise ValueError(f'{loss} expects one logit channel, got prediction of '
                             f'shape {tuple(pred.shape)}')
        pred = pred[:, 0]
    if pred.shape != target.shape:
        raise ValueError(f'{loss}: prediction {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} differ in shape')
    prob = pred.float().sigmoid()
    valid = torch.ones_like(prob)
    if ignore_index is not None:
        valid = (target != ignore_index).to(prob)
    if weight is not None:
        valid = valid * weight
    return prob * valid, (target == 1).to(prob) * valid


@MODELS.register_module()
class SoftIoULoss(nn.Module):
    """``1 - (I + smooth) / (P + T - I + smooth)`` with ``P = sum(sigmoid(pred))``.

    IoU-shaped losses are insensitive to the extreme foreground/background
    imbalance of small-target masks, unlike per-pixel cross-entropy.

    Args:
        smooth (float): Added to numerator and denominator (reference: 1).
        per_image (bool): False (reference) sums I, P and T over the whole
            batch; True computes the loss per image and averages it.
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key in the loss dict; must start with ``loss_`` to be
            back-propagated by mmseg.
    """

    def __init__(self,
                 smooth: float = 1.0,
                 per_image: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_softiou') -> None:
        super().__init__()
        self.smooth = smooth
        self.per_image = per_image
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = 255,
                **kwargs) -> Tensor:
        """Args: pred (B, 1, H, W) or (B, H, W) logits; target (B, H, W) in {0, 1}
        with ``ignore_index`` pixels excluded; weight: optional per-pixel weight
        broadcastable to (B, H, W)."""
        prob, truth = masked_probability_and_truth(pred, target, weight, ignore_index,
                                                   'SoftIoULoss')
        dims = (1, 2) if self.per_image else (0, 1, 2)
        intersection = (prob * truth).sum(dim=dims)
        union = prob.sum(dim=dims) + truth.sum(dim=dims) - intersection
        iou = (intersection + self.smooth) / (union + self.smooth)
        return self.loss_weight * (1.0 - iou).mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
