"""Load mmengine checkpoints under torch >= 2.6 without trusting arbitrary pickles.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
saves a ``message_hub`` holding :class:`HistoryBuffer` objects and numpy arrays
and scalars, so its own checkpoints no longer load (resume, ``load_from``,
``tools/test.py``). Rather than switching ``weights_only`` off, which would run
any code a downloaded file carries, we allow-list the few globals mmengine
writes and replace mmengine's local-file loader with one that keeps
``weights_only=True`` and turns a refusal into an error naming the file.
"""
import pickle
from collections import Counter
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class CheckpointSecurityError(pickle.UnpicklingError):
    """A checkpoint holds a pickled object outside the allow-list."""


def _numpy_globals() -> List[Any]:
    """The numpy callables and types numpy arrays and scalars pickle to."""
    try:  # numpy >= 2 keeps them in numpy._core
        from numpy._core import multiarray
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
    dtype_classes = [type(np.dtype(code)) for code in np.typecodes['All']]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


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


def load_checkpoint_safely(filename: str,
                           map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's globals allowed.

    Raises:
        CheckpointSecurityError: the file pickles an object that is not on
            the allow-list; the message names the file and the object.
    """
    with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as error:
            raise CheckpointSecurityError(
                f'Refusing to load checkpoint "{filename}": it contains a '
                'pickled object outside the allow-list of mmengine '
                'checkpoint types, and loading it could run arbitrary code. '
                f'Details: {error}. If you trust this file, convert it once '
                'with torch.load(..., weights_only=False) and save only its '
                'state_dict.') from None


def _load_from_local(filename: str, map_location: Optional[Any]) -> Any:
    """mmengine's local loader, with the safe ``torch.load`` above."""
    import os.path as osp
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_safely(filename, map_location=map_location)


def patch_checkpoint_loading() -> None:
    """Route mmengine's local checkpoint loading through the safe loader."""
    if CheckpointLoader._schemes.get('') is _load_from_local:
        return
    CheckpointLoader.register_scheme(
        prefixes='', loader=_load_from_local, force=True)
