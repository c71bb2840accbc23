"""RDIAN (Sun et al., TGRS 2023): the authors' keys -> ours, and their model.

The authors' ``conv_batch`` blocks are ``Sequential(conv, BN, LeakyReLU)``
(``.0`` conv, ``.1`` BN), our ConvModules name them ``conv`` and ``bn``. Their
eight direction kernels ``d11`` .. ``d18`` (1, 1, 5, 5) become the one frozen
parameter ``backbone.direction_kernels`` (8, 1, 5, 5) in the same order.
BasicIRSTD's ``model/RDIAN`` port has the same layers and key names
(``model.``-prefixed, stripped before :func:`convert`).
"""
from collections import OrderedDict
from typing import Any, Dict

import torch
from torch import Tensor, nn

from ..conversion import rename_keys
from ..peers import PeerSpec, import_from_checkout

NUM_DIRECTIONS = 8
# Temporary names of the authors' kernels, stacked by :func:`convert`.
DIRECTION_KEY = 'backbone.direction_kernels.{}'
# Their residual_block<b>.<i> (b: kernel 1, 3, 5, 7) -> our branches.<b>.<i>.
_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
RULES = (
    (r'd1([1-8])\.weight', DIRECTION_KEY.format(r'\1')),
    (r'conv1\.0\.weight', r'backbone.stem.conv.weight'),
    (rf'conv1\.1\.{_BN}', r'backbone.stem.bn.\1'),
    (r'conv2\.0\.weight', r'backbone.down.conv.weight'),
    (rf'conv2\.1\.{_BN}', r'backbone.down.bn.\1'),
    (r'residual_block([0-3])\.(\d+)\.layer1\.0\.weight',
     r'backbone.branches.\1.\2.reduce.conv.weight'),
    (rf'residual_block([0-3])\.(\d+)\.layer1\.1\.{_BN}',
     r'backbone.branches.\1.\2.reduce.bn.\3'),
    (r'residual_block([0-3])\.(\d+)\.layer2\.0\.weight',
     r'backbone.branches.\1.\2.expand.conv.weight'),
    (rf'residual_block([0-3])\.(\d+)\.layer2\.1\.{_BN}',
     r'backbone.branches.\1.\2.expand.bn.\3'),
    (r'conv_cat\.0\.weight', r'backbone.fuse.conv.weight'),
    (rf'conv_cat\.1\.{_BN}', r'backbone.fuse.bn.\1'),
    # Flatten is mlp.0: the linears are mlp.1 and mlp.3, ours channel_mlp.0 / .2
    (r'cbam\.ChannelGate\.mlp\.1\.(weight|bias)', r'backbone.attention.channel_mlp.0.\1'),
    (r'cbam\.ChannelGate\.mlp\.3\.(weight|bias)', r'backbone.attention.channel_mlp.2.\1'),
    (r'cbam\.SpatialGate\.spatial\.conv\.weight',
     r'backbone.attention.spatial_conv.conv.weight'),
    (rf'cbam\.SpatialGate\.spatial\.bn\.{_BN}', r'backbone.attention.spatial_conv.bn.\1'),
    (r'conv_res\.0\.weight', r'decode_head.stem_projection.conv.weight'),
    (rf'conv_res\.1\.{_BN}', r'decode_head.stem_projection.bn.\1'),
    (r'head\.block\.0\.weight', r'decode_head.fcn.conv.weight'),
    (rf'head\.block\.1\.{_BN}', r'decode_head.fcn.bn.\1'),
    (r'head\.block\.4\.(weight|bias)', r'decode_head.conv_seg.\1'),
)


def convert(state: Dict[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """The authors' RDIAN state dict as this project's keys."""
    renamed = rename_keys(state, RULES, 'RDIAN')
    kernel_keys = [DIRECTION_KEY.format(k) for k in range(1, NUM_DIRECTIONS + 1)]
    missing = [key for key in kernel_keys if key not in renamed]
    if missing:
        raise KeyError(f'RDIAN direction kernels missing: '
                       f'{", ".join("d1" + key[-1] + ".weight" for key in missing)}')
    converted: OrderedDict[str, Tensor] = OrderedDict()
    converted['backbone.direction_kernels'] = torch.cat(
        [renamed.pop(key) for key in kernel_keys], dim=0)
    converted.update(renamed)
    return converted


def build_authors(src_dir: str) -> nn.Module:
    """``RDIAN()`` from a checkout of sun11999/RDIAN (its only configuration).

    Their package is called ``model``, as in other authors' repositories, so
    a ``model`` imported from elsewhere is dropped from the module cache first.
    """
    return import_from_checkout(src_dir, 'model.segmentation').RDIAN()


def authors_probability(output: Any) -> Tensor:
    """Their forward gives the head's logit; test.py applies the sigmoid."""
    return output.sigmoid()


PEER = PeerSpec(
    name='rdian',
    title='RDIAN',
    config='configs/rdian/rdian_1xb4-1k_sirst-256x256.py',
    in_channels=1,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=1,
    # BasicIRSTD's RDIAN weights fit as they are, but were trained on its own
    # normalisation of each data set (here NUAA-SIRST's; NUDT-SIRST: 107.809 / 33.023,
    # IRSTD-1K: 87.466 / 39.720); pass it to tools/test.py as well.
    cfg_options_hint=('model.data_preprocessor.mean=[101.06385040283203] '
                      'model.data_preprocessor.std=[34.619606018066406]'),
)
