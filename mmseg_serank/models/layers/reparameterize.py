"""Fold training-time structure into plain convs for inference."""
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn

from .cdc_conv import CentralDifferenceConv2d


def reparameterize_model(model: nn.Module) -> nn.Module:
    """Turn CDCs into plain convs, then fold each BN into its conv, in place.

    The result computes the same function as ``model.eval()`` with fewer
    operations (no difference branch, no norm layers). It is for inference
    only: the BN statistics are baked in. The folding is mmcv's
    ``fuse_conv_bn``, which pairs a BN with the conv registered just before it
    and leaves an ``nn.Identity`` in its place; every BN in SeRankDet follows
    its ConvModule's conv (tests/test_models/test_serankdet_model.py checks the
    outputs). Returns ``model`` in eval mode.
    """
    model.eval()
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, CentralDifferenceConv2d):
                setattr(parent, name, child.to_plain_conv())
    return fuse_conv_bn(model)
