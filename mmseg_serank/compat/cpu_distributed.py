"""Let mmengine's pytorch launcher run data-parallel jobs on CPU-only hosts.

mmengine 0.10.7 always calls ``torch.cuda.set_device`` when it initialises a
``--launcher pytorch`` job and hands ``device_ids=[LOCAL_RANK]`` to
DistributedDataParallel, which torch rejects for CPU modules. CPU jobs (CI,
laptops, the 2-process test) therefore cannot start. Without CUDA we
initialise the process group with gloo and drop ``device_ids`` for modules
that live on the CPU; with CUDA nothing changes.

Both are replacements of mmengine functions, so they are never made on
import: ``tools/train.py`` and ``tools/test.py`` call
:func:`enable_cpu_distributed` for a job started with a launcher. A job
started otherwise (``mim train mmseg``, which runs mmseg's own script) calls
it from a module of its own named in ``custom_imports``.
"""
import functools
from typing import Any, Callable

import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.model.wrappers import distributed as mm_ddp

__all__ = ['enable_cpu_distributed']

_PATCHED_FLAG = '_mmseg_serank_cpu_patch'


def _init_cpu_process_group(original: Callable[..., None]) -> Callable[..., None]:

    @functools.wraps(original)
    def init(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        cpu_backend = 'gloo' if backend == 'nccl' else backend
        torch_dist.init_process_group(backend=cpu_backend, **kwargs)

    setattr(init, _PATCHED_FLAG, True)
    return init


def _ddp_init_without_cpu_device_ids(
        original: Callable[..., None]) -> Callable[..., None]:

    @functools.wraps(original)
    def init(self: Any, module: torch.nn.Module, *args: Any, **kwargs: Any) -> None:
        first_param = next(module.parameters(), None)
        if first_param is not None and first_param.device.type == 'cpu':
            kwargs.pop('device_ids', None)
        original(self, module, *args, **kwargs)

    setattr(init, _PATCHED_FLAG, True)
    return init


def enable_cpu_distributed() -> None:
    """Apply both CPU fixes once; without effect where CUDA is available."""
    if not getattr(dist_utils._init_dist_pytorch, _PATCHED_FLAG, False):
        dist_utils._init_dist_pytorch = _init_cpu_process_group(
            dist_utils._init_dist_pytorch)
    ddp_class = mm_ddp.MMDistributedDataParallel
    if not getattr(ddp_class.__init__, _PATCHED_FLAG, False):
        ddp_class.__init__ = _ddp_init_without_cpu_device_ids(ddp_class.__init__)
