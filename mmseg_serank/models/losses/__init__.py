"""Losses of mmseg_serank."""
from .soft_iou_loss import SoftIoULoss

__all__ = ['SoftIoULoss']
from .sls_iou_loss import *  # noqa: F401,F403
