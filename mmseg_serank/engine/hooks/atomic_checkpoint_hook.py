"""Checkpoints that are either complete or absent, never truncated.

mmengine 0.10.7 serialises a checkpoint into memory and then
``LocalBackend.put`` opens the FINAL file name with ``'wb'`` and writes, so a
run killed (pre-emption, out of disk, Ctrl-C) mid-write leaves a truncated
``epoch_N.pth`` that ``last_checkpoint`` points to, and ``--resume`` fails on
it. ``CheckpointHook`` also deletes the oldest kept checkpoint (``max_keep_ckpts``)
BEFORE writing the new one, so with ``max_keep_ckpts=1`` a failed save leaves
no checkpoint at all.

Two pieces fix that the mmengine way, without patching mmengine:

* ``AtomicLocalBackend``, registered as file backend ``'atomic_local'``,
  writes to a temporary file in the target folder, flushes it to disk and
  ``os.replace``-s it onto the final name (atomic on POSIX and Windows). Every
  checkpoint write of the hook goes through the backend named in
  ``backend_args``, so regular and best checkpoints are both covered.
* ``AtomicCheckpointHook`` uses that backend for local output folders, writes
  the ``last_checkpoint`` pointer the same way, and prunes old checkpoints only
  after the new one is safely on disk.
"""
import os
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

__all__ = ['AtomicLocalBackend', 'AtomicCheckpointHook', 'write_atomically']

ATOMIC_BACKEND_NAME = 'atomic_local'


def write_atomically(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so readers see the old file or the new one."""
    filepath = str(filepath)
    os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
    # Same folder (so os.replace is a rename, not a copy), one name per process.
    temporary = f'{filepath}.{os.getpid()}.tmp'
    try:
        with open(temporary, 'wb') as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise


@register_backend(ATOMIC_BACKEND_NAME)
class AtomicLocalBackend(LocalBackend):
    """Local file backend whose writes replace the target in one step."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), filepath)


def is_local_path(path: Optional[str]) -> bool:
    return path is None or '://' not in str(path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves cannot leave a truncated checkpoint.

    Takes ``CheckpointHook``'s arguments (all but ``interval`` by keyword).
    For a local ``out_dir`` (the default: the work dir) with no
    ``backend_args`` given, checkpoints are written through
    ``AtomicLocalBackend``; remote back-ends are left as configured (their
    object stores do not expose partial uploads). If a save fails, the
    checkpoint it would have pruned stays on disk.
    """

    def __init__(self, interval: int = -1, *, out_dir: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None, **kwargs) -> None:
        if (backend_args is None and file_client_args is None
                and is_local_path(out_dir)):
            backend_args = dict(backend=ATOMIC_BACKEND_NAME)
        super().__init__(interval, out_dir=out_dir, backend_args=backend_args,
                         file_client_args=file_client_args, **kwargs)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        """Save first, then point ``last_checkpoint`` at it, then prune."""
        outdated_step = self._record_kept_step(runner, step)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_atomically(self.last_ckpt.encode(),
                         osp.join(runner.work_dir, 'last_checkpoint'))
        if outdated_step is not None:
            self._remove_checkpoint(outdated_step)

    def _record_kept_step(self, runner, step: int) -> Optional[int]:
        """Add ``step`` to the kept checkpoints; return the step that falls out.

        The message hub is updated before saving (as mmengine does) so the
        checkpoint itself records which files a resumed run should prune.
        """
        already_kept = bool(self.keep_ckpt_ids) and self.keep_ckpt_ids[-1] == step
        if self.max_keep_ckpts <= 0 or already_kept:
            return None
        outdated_step = None
        # keep_ckpt_ids is a deque bounded by max_keep_ckpts: pop before appending.
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated_step = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        return outdated_step

    def _remove_checkpoint(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves folders
            self.file_backend.rmtree(path)
