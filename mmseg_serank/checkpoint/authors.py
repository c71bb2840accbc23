"""The state dict inside a checkpoint file written by an IRSTD authors' code.

The authors save their weights in several ways: a dict holding
``state_dict`` (DNANet, SCTransNet, BasicIRSTD, MSHNet's published files) or
``net`` (MSHNet's ``checkpoint.pkl``) next to epochs, losses and optimiser
states, or a bare state dict (UIU-Net, RDIAN, MSHNet's ``weight.pkl``); keys
carry ``module.`` (DataParallel / DDP) and/or ``model.`` (BasicIRSTD's ``Net``
wrapper) prefixes. Every such form of one checkpoint gives the same state dict
here. Files are read with the allow-listed loader, so one that would run code
is refused.
"""
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict

from torch import Tensor

from .loading import load_checkpoint_safely

__all__ = ['AUTHORS_SUFFIXES', 'read_authors_state_dict', 'strip_wrapper_prefixes']

AUTHORS_SUFFIXES = ('.pth', '.pth.tar', '.tar', '.pkl', '.pt')
WRAPPER_PREFIXES = ('module.', 'model.')
# Entries that hold the weights, in the order they are looked for.
WEIGHT_ENTRIES = ('state_dict', 'net')


def strip_wrapper_prefixes(key: str) -> str:
    """``key`` without leading ``module.`` / ``model.`` prefixes, in any order."""
    stripped = True
    while stripped:
        stripped = False
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                stripped = True
    return key


def _weights(checkpoint: Any, path: str) -> Dict[str, Any]:
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: holds a {type(checkpoint).__name__}, not a state dict '
                         "or a dict with 'state_dict' or 'net'")
    for entry in WEIGHT_ENTRIES:
        if isinstance(checkpoint.get(entry), dict):
            return checkpoint[entry]
    return checkpoint


def read_authors_state_dict(path: str) -> 'OrderedDict[str, Tensor]':
    """The weights in ``path`` with wrapper prefixes removed.

    Raises:
        ValueError: the file name, the kind of file or its content is not
            one of the authors' forms; the message names the file.
        CheckpointFormatError: the file is empty, truncated or not a checkpoint.
        CheckpointSecurityError: the file pickles more than weights (refused
            as by every tool, see :mod:`.loading`).
    """
    if not path.endswith(AUTHORS_SUFFIXES):
        raise ValueError(f'{path}: expected one of {", ".join(AUTHORS_SUFFIXES)} '
                         '(the files the authors\' code writes)')
    if not osp.isfile(path):
        raise ValueError(f'{path}: no such file')
    checkpoint = load_checkpoint_safely(path, map_location='cpu')
    weights = _weights(checkpoint, path)
    state: OrderedDict[str, Tensor] = OrderedDict()
    for raw_key, value in weights.items():
        if not isinstance(value, Tensor):
            raise ValueError(f'{path}: entry {raw_key!r} is a {type(value).__name__}, '
                             'not a tensor; expected a state dict of tensors')
        key = strip_wrapper_prefixes(str(raw_key))
        if key in state:
            raise ValueError(f'{path}: keys {raw_key!r} and another both become {key!r} '
                             'without their module./model. prefixes')
        state[key] = value
    if not state:
        raise ValueError(f'{path}: holds no tensors')
    return state
