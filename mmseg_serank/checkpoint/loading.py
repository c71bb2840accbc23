"""Read checkpoint files under torch >= 2.6 without trusting arbitrary pickles.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
saves a ``message_hub`` holding :class:`HistoryBuffer` objects and numpy arrays
and scalars, so its own checkpoints no longer load (resume, ``load_from``,
``tools/test.py``; upstream: open-mmlab/mmengine#1655, whose PR #1650 turns
``weights_only`` off instead, which would run any code a downloaded file
carries). We allow-list the few globals mmengine writes, keep
``weights_only=True`` and turn a refusal into an error naming the file.

The loader is registered as mmengine's checkpoint scheme for local files
(``CheckpointLoader.register_scheme``, the registry mmengine offers for
loaders), so the runner's ``load_from`` and resume, ``mim test`` and the
inferencers read files through it; the tools call :func:`load_checkpoint_safely`
directly.

Files that are not checkpoints at all (empty, truncated, a text file saved as
``.pth``) get an error saying so, instead of a bare ``EOFError`` or a
security refusal.
"""
import os
import os.path as osp
import pickle
import re
from collections import Counter
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['MMENGINE_CHECKPOINT_GLOBALS', 'CheckpointFormatError', 'CheckpointSecurityError',
           'load_checkpoint_safely', 'load_local_checkpoint', 'read_checkpoint']


class CheckpointSecurityError(pickle.UnpicklingError):
    """A checkpoint holds a pickled object outside the allow-list."""


class CheckpointFormatError(ValueError):
    """A file given as a checkpoint is empty, truncated or not a checkpoint."""


# torch.save writes a zip archive (torch >= 1.6) or, in the legacy format, a
# pickle, whose first byte is the PROTO opcode.
ZIP_MAGIC = b'PK\x03\x04'
PICKLE_PROTO = b'\x80'
# Phrases of torch's errors for a cut-short or damaged file.
CORRUPTION_SIGNS = ('PytorchStreamReader', 'unexpected EOF', 'corrupted')


def _numpy_globals() -> List[Any]:
    """The numpy callables and types numpy arrays and scalars pickle to."""
    try:  # numpy >= 2 keeps them in numpy._core
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    dtype_classes = [type(np.dtype(code)) for code in np.typecodes['All']]
    # A pickle names the module of the numpy that wrote it: numpy.core (1.x)
    # or numpy._core (2.x); both names are served by the installed functions.
    aliases = [(function, f'{module}.{function.__name__}')
               for function in (multiarray._reconstruct, multiarray.scalar)
               for module in ('numpy.core.multiarray', 'numpy._core.multiarray')]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes, *aliases]


def history_buffer_statistic(owner: Any, name: str) -> Any:
    """Restricted stand-in for the ``getattr`` global in mmengine checkpoints.

    A pickled :class:`HistoryBuffer` refers to its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the builtin ``getattr``
    would hand a crafted file any attribute of any allowed object, so only
    these lookups are served.
    """
    if owner is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not an mmengine checkpoint lookup')


MMENGINE_CHECKPOINT_GLOBALS: List[Any] = [
    HistoryBuffer,
    Counter,
    *_numpy_globals(),
    (history_buffer_statistic, '__builtin__.getattr'),
    (history_buffer_statistic, 'builtins.getattr'),
]
"""Globals found in checkpoints written by mmengine 0.10.x runners."""


def refusal_reason(error: Exception) -> str:
    """The object torch refused, without torch's advice to switch
    ``weights_only`` off or to allow-list the object (both run its code)."""
    match = re.search(r'^\s*(?:WeightsUnpickler error: )?((?:Unsupported|Trying to|Can only)'
                      r'[^\n]*?)(?: Please use .*)?$', str(error), re.MULTILINE)
    return match[1] if match else 'an object torch does not load with weights_only=True.'


def check_checkpoint_file(filename: str) -> None:
    """Raise :class:`CheckpointFormatError` unless ``filename`` starts like a
    file ``torch.save`` writes (zip archive or legacy pickle)."""
    if osp.getsize(filename) == 0:
        raise CheckpointFormatError(
            f'Checkpoint "{filename}" is empty (0 bytes): the save that wrote it '
            'was interrupted or the copy failed. Use another checkpoint.')
    with open(filename, 'rb') as file:
        head = file.read(len(ZIP_MAGIC))
    if not (head.startswith(ZIP_MAGIC) or head.startswith(PICKLE_PROTO)):
        raise CheckpointFormatError(
            f'"{filename}" is not a PyTorch checkpoint: it is neither a zip '
            f'archive nor a pickle (it starts with {head!r}). Check the path.')


def load_checkpoint_safely(filename: str,
                           map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's globals allowed.

    Raises:
        CheckpointFormatError: the file is empty, truncated or damaged, or is
            no checkpoint at all; the message names the file.
        CheckpointSecurityError: the file pickles an object that is not on
            the allow-list; the message names the file and the object.
    """
    filename = os.fspath(filename)
    check_checkpoint_file(filename)
    with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            raise CheckpointSecurityError(
                f'Refusing to load checkpoint "{filename}": it contains a '
                'pickled object outside the allow-list of mmengine '
                'checkpoint types (tensors, numbers, strings, containers, '
                'numpy arrays), and loading it could run arbitrary code. '
                f'Details: {refusal_reason(error)} Do not load it with weights_only=False. '
                'If the file comes from a source you trust, ask for (or, in '
                "that source's own environment, write) a file holding only "
                "tensors, e.g. torch.save({'state_dict': model.state_dict()}, "
                "'weights.pth').") from None
        except (EOFError, RuntimeError) as error:
            # EOFError: a pickle cut short; RuntimeError: torch's readers on a
            # truncated or damaged archive or legacy file (other runtime
            # errors, e.g. a CUDA map_location, are passed on unchanged).
            if isinstance(error, RuntimeError) and not any(
                    sign in str(error) for sign in CORRUPTION_SIGNS):
                raise
            raise CheckpointFormatError(
                f'Checkpoint "{filename}" is truncated or damaged and cannot be '
                f'read ({type(error).__name__}: {error}). Use another '
                'checkpoint.') from None


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location: Optional[Any] = None) -> Any:
    """mmengine's scheme for local paths (prefix ``''``), served by
    :func:`load_checkpoint_safely` (open-mmlab/mmengine#1655)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_safely(filename, map_location=map_location)


def read_checkpoint(filename: str, map_location: Optional[Any] = 'cpu') -> Any:
    """The checkpoint at ``filename``: a local file through
    :func:`load_local_checkpoint`, a URL or other prefix through mmengine's
    loader for it, so every tool reads a path the way the runner does."""
    return CheckpointLoader.load_checkpoint(os.fspath(filename), map_location=map_location)
