"""What the pinned OpenMMLab stack lacks, each piece named after its upstream issue.

``mmcv_ops``
    mmseg 1.2.2 imports ``mmcv.ops`` at import time, so with mmcv-lite
    ``import mmseg.models`` fails on ``mmcv._ext`` (upstream:
    open-mmlab/mmsegmentation#871; mmcv-lite has no ``_ext`` by design).
    Importing :mod:`mmseg_serank` provides a stand-in extension module, only
    where mmcv has no compiled ops; calling any compiled op raises a clear
    error. Nothing changes with full mmcv.
``cpu_distributed``
    mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device`` and
    passes ``device_ids`` to DDP, so ``torch.distributed.run`` jobs cannot
    start on a CPU-only host. :func:`enable_cpu_distributed` is called
    explicitly by ``tools/train.py`` and ``tools/test.py`` for a job with a
    launcher; importing the package does not call it.

Checkpoint reading under torch >= 2.6 (open-mmlab/mmengine#1655) is part of
:mod:`mmseg_serank.checkpoint`.
"""
from .cpu_distributed import enable_cpu_distributed
from .mmcv_ops import CompiledOpUnavailableError, has_compiled_mmcv_ops, provide_mmcv_ext

__all__ = [
    'CompiledOpUnavailableError', 'enable_cpu_distributed', 'has_compiled_mmcv_ops',
    'provide_mmcv_ext'
]
