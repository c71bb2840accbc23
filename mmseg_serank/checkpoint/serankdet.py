"""Key mapping of the official SeRankDet code (GrokCV/SeRankDet) to ours.

The reference's fixed positional tables (``max_channelN.pos_enc.pos_enc``) are
checked against the analytic formula our SeRank attention evaluates and then
dropped: they are not parameters of our model. Used by
``tools/model_converters/serankdet2mmseg.py`` and the parity check.
"""
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Tuple

import torch
from torch import Tensor

from ..models.layers import sinusoidal_position_term
from .loading import load_checkpoint_safely

__all__ = ['convert_state_dict', 'load_source', 'map_key']

POS_TABLE_TOLERANCE = 1e-5
BN_SUFFIX = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
CONV_SUFFIX = r'(weight|bias)'


def _stage(index: str, offset: int) -> int:
    return int(index) - offset


# (pattern on the reference key without 'decode_head.', builder of our key)
KEY_RULES: List[Tuple[str, Callable[[re.Match], str]]] = [
    (r'Conv(\d)\.(conv_layer|dconv_layer)\.(\d)\.([01])\.' + BN_SUFFIX,
     lambda m: 'backbone.ddc_blocks.{}.{}.{}.{}.{}'.format(
         _stage(m[1], 1),
         'plain_branch' if m[2] == 'conv_layer' else 'dilated_branch',
         m[3], 'conv' if m[4] == '0' else 'bn', m[5])),
    (r'Conv(\d)\.cdc_layer\.0\.conv\.' + CONV_SUFFIX,
     lambda m: f'backbone.ddc_blocks.{_stage(m[1], 1)}.difference_branch.conv.{m[2]}'),
    (r'Conv(\d)\.cdc_layer\.1\.' + BN_SUFFIX,
     lambda m: f'backbone.ddc_blocks.{_stage(m[1], 1)}.difference_branch.bn.{m[2]}'),
    (r'Conv(\d)\.final_layer\.([01])\.' + BN_SUFFIX,
     lambda m: 'backbone.ddc_blocks.{}.fuse.{}.{}'.format(
         _stage(m[1], 1), 'conv' if m[2] == '0' else 'bn', m[3])),
    (r'max_channel(\d)\.fc([12])\.weight',
     lambda m: 'backbone.rank_attentions.{}.{}.weight'.format(
         _stage(m[1], 1), 'query_proj' if m[2] == '1' else 'key_proj')),
    (r'Up(\d)\.up\.([12])\.' + BN_SUFFIX,
     lambda m: 'decode_head.up_blocks.{}.{}.{}'.format(
         _stage(m[1], 2), 'conv' if m[2] == '1' else 'bn', m[3])),
    (r'neck(\d)\.(conv_squeeze|conv)\.' + CONV_SUFFIX,
     lambda m: 'decode_head.fusions.{}.{}.{}'.format(
         _stage(m[1], 2),
         'squeeze_conv' if m[2] == 'conv_squeeze' else 'expand_conv', m[3])),
    (r'neck(\d)\.gamma', lambda m: f'decode_head.fusions.{_stage(m[1], 2)}.gamma'),
    (r'Up_conv(\d)\.conv\.([06])\.' + CONV_SUFFIX,
     lambda m: f'decode_head.decoder_blocks.{_stage(m[1], 2)}.{int(m[2]) // 3}.conv.{m[3]}'),
    (r'Up_conv(\d)\.conv\.3\.conv\.' + CONV_SUFFIX,
     lambda m: f'decode_head.decoder_blocks.{_stage(m[1], 2)}.1.conv.{m[2]}'),
    (r'Up_conv(\d)\.conv\.([147])\.' + BN_SUFFIX,
     lambda m: f'decode_head.decoder_blocks.{_stage(m[1], 2)}.{int(m[2]) // 3}.bn.{m[3]}'),
    (r'Conv\.' + CONV_SUFFIX, lambda m: f'decode_head.conv_seg.{m[1]}'),
    (r'conv(\d)\.' + CONV_SUFFIX,
     lambda m: f'decode_head.side_convs.{_stage(m[1], 1)}.{m[2]}'),
]
POS_TABLE_KEY = re.compile(r'max_channel(\d)\.pos_enc\.pos_enc')


def strip_prefixes(key: str) -> str:
    while key.startswith('module.'):
        key = key[len('module.'):]
    if key.startswith('decode_head.'):
        key = key[len('decode_head.'):]
    return key


def check_position_table(key: str, table: Tensor) -> None:
    """Raise if a stored table is not the sinusoidal formula we evaluate."""
    if table.dim() != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f'{key}: expected a square table, got {tuple(table.shape)}')
    size = table.shape[0]
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    expected = sinusoidal_position_term(rows, cols, size)
    error = (table.float() - expected).abs().max().item()
    if error > POS_TABLE_TOLERANCE:
        raise ValueError(f'{key}: table differs from the sinusoidal formula by {error:.3g};'
                         ' this checkpoint cannot be represented by our model')


def map_key(key: str) -> str:
    """Our parameter name for a reference key (without prefixes); '' if unknown."""
    for pattern, build in KEY_RULES:
        match = re.fullmatch(pattern, key)
        if match is not None:
            return build(match)
    return ''


def convert_state_dict(source: Dict[str, Tensor]) -> Tuple['OrderedDict[str, Tensor]',
                                                             List[str]]:
    """Map every reference key; returns (our state dict, dropped keys)."""
    converted: OrderedDict[str, Tensor] = OrderedDict()
    dropped, unmapped = [], []
    for raw_key, value in source.items():
        key = strip_prefixes(raw_key)
        if POS_TABLE_KEY.fullmatch(key):
            check_position_table(raw_key, value)
            dropped.append(raw_key)
            continue
        new_key = map_key(key)
        if not new_key:
            unmapped.append(raw_key)
        elif new_key in converted:
            raise ValueError(f'Two reference keys map to {new_key} (second: {raw_key})')
        else:
            converted[new_key] = value.detach().clone()
    if unmapped:
        raise KeyError(f'{len(unmapped)} reference keys have no mapping: '
                       + ', '.join(unmapped[:20]))
    return converted, dropped


def load_source(path: str) -> Dict[str, Tensor]:
    """The reference state dict in ``path``, read without running pickled code."""
    checkpoint = load_checkpoint_safely(path, map_location='cpu')
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        checkpoint = checkpoint['state_dict']
    if not isinstance(checkpoint, dict) or not all(
            isinstance(v, Tensor) for v in checkpoint.values()):
        raise ValueError(f'{path}: expected a state dict of tensors or a dict with '
                         "'state_dict'")
    return checkpoint
