"""Load a checkpoint into a model only if every tensor fits, else say why.

mmengine's runner and mmseg's ``init_model`` load non-strictly: a checkpoint of
another width, another network or the authors' unconverted file only logs
"size mismatch" and the model keeps random weights, so a test scores noise and
exits 0. :func:`load_checkpoint_strict` refuses such a file with an error that
names the first missing, unexpected and mis-shaped keys and a likely cause.
"""
import re
from collections import OrderedDict
from typing import Any, Dict, List, Optional

import torch
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner.checkpoint import load_state_dict
from torch import nn

from .loading import CheckpointFormatError, CheckpointSecurityError, read_checkpoint

__all__ = ['CHECKPOINT_ERRORS', 'CheckpointMismatchError', 'check_fit',
           'checkpoint_error_message', 'checkpoint_state_dict', 'fit_problems',
           'load_checkpoint_strict', 'unwrap_model']

# How many keys of each kind an error lists.
SHOWN_KEYS = 5
# Module names of the official SeRankDet code (GrokCV/SeRankDet).
AUTHORS_KEY = re.compile(r'(^|\.)(Conv\d|Up\d|Up_conv\d|max_channel\d|neck\d)\.')


class CheckpointMismatchError(RuntimeError):
    """The checkpoint's tensors do not fit the model built from the config."""


# What loading a user's checkpoint file raises with a message fit for the user.
CHECKPOINT_ERRORS = (CheckpointMismatchError, CheckpointFormatError,
                     CheckpointSecurityError, FileNotFoundError)


def checkpoint_error_message(error: BaseException) -> str:
    """One line of a :data:`CHECKPOINT_ERRORS` error, as every tool prints it
    after ``error: ``, so a file gets the same answer and hint everywhere."""
    return ' '.join(str(error).split())


def checkpoint_state_dict(checkpoint: Any, filename: str) -> 'OrderedDict[str, Any]':
    """The state dict of an mmengine checkpoint or of a bare state dict, with
    DataParallel / DDP ``module.`` prefixes removed."""
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'"{filename}" holds a {type(checkpoint).__name__}, not a state dict '
            "or a dict with 'state_dict'")
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not any(
            torch.is_tensor(value) for value in state_dict.values()):
        raise CheckpointMismatchError(
            f'"{filename}" holds no tensors: expected a state dict or a dict '
            "with 'state_dict'")
    return OrderedDict((re.sub(r'^module\.', '', key), value)
                       for key, value in state_dict.items())


def _shape(value: Any) -> Optional[tuple]:
    return tuple(value.shape) if torch.is_tensor(value) else None


def _listing(label: str, keys: List[str]) -> str:
    more = f' (and {len(keys) - SHOWN_KEYS} more)' if len(keys) > SHOWN_KEYS else ''
    return f'{len(keys)} {label}: {", ".join(keys[:SHOWN_KEYS])}{more}'


def _hint(missing: List[str], unexpected: List[str], misshaped: List[str]) -> str:
    if any(AUTHORS_KEY.search(key) for key in unexpected):
        return ('This looks like a checkpoint of the official SeRankDet code; convert it '
                'once with tools/model_converters/serankdet2mmseg.py SRC DST and use DST.')
    if misshaped and not missing and not unexpected:
        return ('The layers match but their sizes do not: the checkpoint was trained at '
                'another width (or number of classes). Use the config it was trained '
                'with, or set model.backbone.base_channels to its width (e.g. '
                '--cfg-options model.backbone.base_channels=16; the head follows).')
    return 'The checkpoint was saved from a different model than the config builds.'


def fit_problems(model: nn.Module, state_dict: Dict[str, Any]) -> List[str]:
    """Missing, unexpected and mis-shaped keys of ``state_dict`` for ``model``."""
    expected = model.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    misshaped = [f'{key} {_shape(state_dict[key])} vs {tuple(value.shape)} in the model'
                 for key, value in expected.items()
                 if key in state_dict and _shape(state_dict[key]) != tuple(value.shape)]
    problems = [_listing(label, keys) for label, keys in (
        ('missing keys', missing), ('unexpected keys', unexpected),
        ('tensors of the wrong shape (checkpoint vs model)', misshaped)) if keys]
    if problems:
        problems.append(_hint(missing, unexpected, misshaped))
    return problems


def check_fit(model: nn.Module, checkpoint: Any, filename: str) -> 'OrderedDict[str, Any]':
    """The state dict of ``checkpoint`` if it fits ``model`` (wrappers and TTA
    models are looked through) exactly.

    Raises:
        CheckpointMismatchError: naming the first problems and a likely fix.
    """
    state_dict = checkpoint_state_dict(checkpoint, filename)
    problems = fit_problems(unwrap_model(model), state_dict)
    if problems:
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}" does not fit the model of the config: '
            + '; '.join(problems))
    return state_dict


def unwrap_model(model: nn.Module) -> nn.Module:
    """The network inside a DDP / DataParallel wrapper or a TTA model."""
    if is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        return model.module
    return model


def load_checkpoint_strict(model: nn.Module, filename: str,
                           map_location: Any = 'cpu') -> dict:
    """Load ``filename`` into ``model`` (wrappers and TTA models included).

    The file is read with the allow-listed loader (no code runs). Accepts an
    mmengine checkpoint or a bare state dict (returned as
    ``{'state_dict': ...}`` so callers can always look for ``'meta'``).

    Raises:
        CheckpointMismatchError: the tensors do not fit the model; nothing is
            loaded, and the message names the first problems and a fix.
    """
    checkpoint = read_checkpoint(filename, map_location=map_location)
    state_dict = check_fit(model, checkpoint, filename)
    if 'state_dict' not in checkpoint:
        checkpoint = {'state_dict': state_dict}
    load_state_dict(unwrap_model(model), state_dict, strict=True)
    return checkpoint
