"""Let mmseg import under mmcv-lite, which ships no compiled ``mmcv._ext``.

Upstream: open-mmlab/mmsegmentation#871. mmseg 1.2.2 imports ``mmcv.ops``
(``point_sample``, ``sigmoid_focal_loss``, ...) at module import time,
although SeRankDet and the IRSTD pipeline call no compiled op. ``mmcv.ops``
only fetches ``mmcv._ext`` and checks that named functions exist, so a
stand-in module whose every attribute is a function raising
:class:`CompiledOpUnavailableError` makes the import succeed while any real
use of a compiled op still fails loudly. With full mmcv nothing is installed.
"""
import importlib.machinery
import importlib.util
import sys
import types
from typing import Callable, NoReturn

STUB_MODULE_NAME = 'mmcv._ext'


class CompiledOpUnavailableError(RuntimeError):
    """A compiled mmcv op was called but only mmcv-lite is installed."""


def has_compiled_mmcv_ops() -> bool:
    """True when full mmcv (with ``mmcv._ext``) is installed."""
    module = sys.modules.get(STUB_MODULE_NAME)
    if module is not None:
        return not isinstance(module, _MissingCompiledOps)
    try:
        return importlib.util.find_spec(STUB_MODULE_NAME) is not None
    except ModuleNotFoundError:  # mmcv itself is absent
        return False


class _MissingCompiledOps(types.ModuleType):
    """Stand-in for ``mmcv._ext`` whose every op raises a clear error."""

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        if name.startswith('__'):
            raise AttributeError(name)

        def unavailable(*args, **kwargs) -> NoReturn:
            raise CompiledOpUnavailableError(
                f'mmcv compiled op "{name}" was called, but the installed '
                'mmcv has no compiled ops (mmcv-lite). Install full mmcv, '
                'e.g. `mim install "mmcv>=2.0.0rc4,<2.2.0"`, to use it.')

        unavailable.__name__ = name
        return unavailable


def provide_mmcv_ext() -> bool:
    """Install the stand-in when compiled ops are missing (mmcv-lite); with
    full mmcv nothing is done.

    Returns:
        bool: True if the stand-in was installed (now or earlier).
    """
    if has_compiled_mmcv_ops():
        return False
    if importlib.util.find_spec('mmcv') is None:
        return False
    stand_in = _MissingCompiledOps(STUB_MODULE_NAME)
    # A spec without a loader: mmcv's check_ops_exist() (used by the env
    # report) then still answers "no compiled ops" instead of crashing.
    stand_in.__spec__ = importlib.machinery.ModuleSpec(STUB_MODULE_NAME, None)
    sys.modules[STUB_MODULE_NAME] = stand_in
    return True
