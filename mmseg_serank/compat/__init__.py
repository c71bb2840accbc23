"""Compatibility patches for the pinned OpenMMLab stack, applied once on import.

Every patch lives here and nowhere else.

``mmcv_ops``
    mmseg 1.2.2 imports ``mmcv.ops`` at import time, so with mmcv-lite
    ``import mmseg.models`` fails on ``mmcv._ext`` (upstream:
    open-mmlab/mmsegmentation#871; mmcv-lite has no ``_ext`` by design). A
    stand-in extension module lets the import succeed; calling any compiled
    op raises a clear error. Nothing is patched when full mmcv is installed.
``checkpoint``
    torch >= 2.6 loads with ``weights_only=True``; mmengine 0.10.7
    checkpoints pickle ``HistoryBuffer`` and numpy objects, so resume,
    ``load_from`` and ``tools/test.py`` fail (upstream: open-mmlab/mmengine
    #1655; PR #1650 turns weights_only off instead). We allow-list exactly
    those globals and keep ``weights_only=True``; any other pickled object
    is refused with a message naming the file.
``cpu_distributed``
    mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device`` and
    passes ``device_ids`` to DDP, so ``torch.distributed.run`` jobs cannot
    start on a CPU-only host. Without CUDA we use gloo and drop
    ``device_ids`` for CPU modules; with CUDA nothing changes.
``inference_apis``
    mmseg 1.2.2's ``init_model``, ``inference_model`` and ``MMSegInferencer``
    know only mmseg's own loaders and fall back to STARE/Cityscapes classes;
    for configs that load images with ``LoadIRImageFromFile`` they are routed
    to :mod:`mmseg_serank.apis` (other configs are left to mmseg).
"""
from .checkpoint import (
    MMENGINE_CHECKPOINT_GLOBALS,
    CheckpointFormatError,
    CheckpointSecurityError,
    load_checkpoint_safely,
    patch_checkpoint_loading,
)
from .cpu_distributed import patch_cpu_distributed
from .inference_apis import patch_inference_apis
from .mmcv_ops import CompiledOpUnavailableError, has_compiled_mmcv_ops, patch_mmcv_ops

__all__ = [
    'CheckpointFormatError', 'CheckpointSecurityError', 'CompiledOpUnavailableError',
    'MMENGINE_CHECKPOINT_GLOBALS', 'apply_all', 'has_compiled_mmcv_ops',
    'load_checkpoint_safely', 'patch_checkpoint_loading',
    'patch_cpu_distributed', 'patch_inference_apis', 'patch_mmcv_ops'
]


def apply_all() -> None:
    """Apply every patch; idempotent, and a no-op where none is needed."""
    patch_mmcv_ops()
    patch_checkpoint_loading()
    patch_cpu_distributed()
    patch_inference_apis()
