"""Key mapping of the authors' DNANet (YeRen123455/Infrared-Small-Target-Detection) to ours.

The authors name node (i, j) of the nested grid ``conv{i}_{j}`` (a Sequential
of Res-CBAM blocks), the pyramid projections ``conv0_{k}_1x1``, the fusion
block ``conv0_4_final`` and the outputs ``final1..4``. Inside a block,
``conv1/bn1`` and ``conv2/bn2`` become our ConvModules' ``conv``/``bn``,
``shortcut.0/1`` the shortcut ConvModule, ``ca.fc1/fc2`` and ``sa.conv1`` the
channel and spatial gates. BasicIRSTD's one-channel port (``model/DNANet``)
uses the same names under a ``model.`` prefix (removed before conversion).
"""
from typing import Any, Dict, List, Tuple

import torch
from torch import Tensor, nn

from ..conversion import rename_keys
from ..peers import PeerSpec, import_from_checkout

__all__ = ['PEER', 'RULES', 'convert']

TITLE = 'DNANet'
BN_LEAF = r'(?P<leaf>weight|bias|running_mean|running_var|num_batches_tracked)'
CONV_LEAF = r'(?P<leaf>weight|bias)'

# Inside one Res-CBAM block (after '<node>.<block index>.').
BLOCK_RULES: List[Tuple[str, str]] = [
    (r'conv(?P<n>[12])\.' + CONV_LEAF, r'conv\g<n>.conv.\g<leaf>'),
    (r'bn(?P<n>[12])\.' + BN_LEAF, r'conv\g<n>.bn.\g<leaf>'),
    (r'shortcut\.0\.' + CONV_LEAF, r'shortcut.conv.\g<leaf>'),
    (r'shortcut\.1\.' + BN_LEAF, r'shortcut.bn.\g<leaf>'),
    (r'ca\.fc1\.weight', 'channel_gate.squeeze.weight'),
    (r'ca\.fc2\.weight', 'channel_gate.expand.weight'),
    (r'sa\.conv1\.weight', 'spatial_gate.conv.weight'),
]

# The Res-CBAM stages: authors' node name -> our module.
STAGES: List[Tuple[str, str]] = (
    [(r'conv(?P<level>\d)_0', r'backbone.encoder.\g<level>')]
    + [(rf'conv(?P<level>\d)_{column}', rf'backbone.nested.{column - 1}.\g<level>')
       for column in range(1, 5)]
    + [(r'conv0_4_final', 'decode_head.fusion')])

RULES: List[Tuple[str, str]] = (
    [(stage + r'\.(?P<block>\d+)\.' + inner, target + r'.\g<block>.' + template)
     for stage, target in STAGES for inner, template in BLOCK_RULES]
    + [(rf'conv0_{k}_1x1\.' + CONV_LEAF, rf'decode_head.lateral_convs.{k - 1}.\g<leaf>')
       for k in range(1, 5)]
    + [(rf'final{k}\.' + CONV_LEAF, rf'decode_head.side_convs.{k - 1}.\g<leaf>')
       for k in range(1, 4)]
    + [(r'final4\.' + CONV_LEAF, r'decode_head.conv_seg.\g<leaf>')])


def convert(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The authors' (or BasicIRSTD's) DNANet state dict in our key names."""
    return rename_keys(state, RULES, TITLE)


def build_authors(src_dir: str) -> nn.Module:
    """The authors' default DNANet from a checkout (parity checks only)."""
    module = import_from_checkout(src_dir, 'model.model_DNANet')
    return module.DNANet(num_classes=1, input_channels=3, block=module.Res_CBAM_block,
                         num_blocks=[2, 2, 2, 2], nb_filter=[16, 32, 64, 128, 256],
                         deep_supervision=True)


def authors_probability(output: Any) -> Tensor:
    """sigmoid of final4, the last of the four logits their test scores."""
    return torch.sigmoid(output[-1])


PEER = PeerSpec(
    name='dnanet',
    title=TITLE,
    config='configs/dnanet/dnanet_1xb4-1k_sirst-256x256.py',
    in_channels=3,
    convert=convert,
    build_authors=build_authors,
    authors_probability=authors_probability,
    size_divisor=16,
    # BasicIRSTD's port: one grey channel, normalised with its per-data-set mean/std
    # (NUAA-SIRST's here; configs/dnanet/README.md lists the others), tested with the
    # input zero-padded to a multiple of 32.
    cfg_options_hint=('model.backbone.in_channels=1 model.backbone.size_divisor=32 '
                      'model.data_preprocessor.type=IRSTDDataPreProcessor '
                      'model.data_preprocessor.grey=True '
                      'model.data_preprocessor.bgr_to_rgb=False '
                      'model.data_preprocessor.mean=[101.06385] '
                      'model.data_preprocessor.std=[34.619606]'),
)
