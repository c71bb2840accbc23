"""Fold training-time structure into plain convs for inference."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from .cdc_conv import CentralDifferenceConv2d


def fold_batch_norm(conv: nn.Conv2d, norm: _BatchNorm) -> None:
    """Fold an eval-mode BN that follows ``conv`` into the conv, in place."""
    if not norm.track_running_stats or norm.running_var is None:
        raise ValueError('Cannot fold a BatchNorm without running statistics')
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.affine:
        scale = scale * norm.weight
    with torch.no_grad():
        bias = conv.bias if conv.bias is not None else torch.zeros_like(
            norm.running_mean)
        shift = (bias - norm.running_mean) * scale
        if norm.affine:
            shift = shift + norm.bias
        conv.weight.mul_(scale.view(-1, 1, 1, 1))
        if conv.bias is None:
            conv.bias = nn.Parameter(shift.detach().clone())
        else:
            conv.bias.copy_(shift)


def reparameterize_model(model: nn.Module) -> nn.Module:
    """Turn CDCs into plain convs and fold BN into ConvModule convs, in place.

    The result computes the same function as ``model.eval()`` with fewer
    operations (no difference branch, no norm layers). It is for inference
    only: the BN statistics are baked in. Returns ``model`` in eval mode.
    """
    model.eval()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, CentralDifferenceConv2d):
                setattr(parent, name, child.to_plain_conv())
    for module in model.modules():
        if (isinstance(module, ConvModule) and module.with_norm
                and isinstance(module.norm, _BatchNorm)
                and isinstance(module.conv, nn.Conv2d)
                and module.order.index('conv') < module.order.index('norm')):
            fold_batch_norm(module.conv, module.norm)
            delattr(module, module.norm_name)
            module.norm_name = None
            module.with_norm = False
    return model
