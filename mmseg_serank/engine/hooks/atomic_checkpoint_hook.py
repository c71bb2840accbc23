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

The hook also keeps a run's files its own and its checkpoints usable:

* A new best checkpoint is written before the previous best is removed
  (mmengine removes first, so a kill in between left no best file).
* A work dir copied or moved elsewhere (``cp -r run1 run2``) still records
  run1's absolute paths (``last_checkpoint``, the best and last checkpoint in
  the message hub). On ``--resume`` they are resolved in the run's own
  checkpoint folder, so run2 never reads or deletes run1's files.
* Temporary files left by a killed save are removed when the run starts.
* A checkpoint is written only when every parameter and buffer is finite.
* A checkpoint loaded to test or to resume must fit the model exactly
  (mmengine loads non-strictly, so ``mim test`` of another width scored random
  weights); ``load_from`` for training may stay partial (fine-tuning).
"""
import os
import os.path as osp
import re
from pathlib import Path
from typing import Dict, List, Optional, Union

import torch
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmseg.registry import HOOKS

from ...checkpoint.fitting import check_fit
from ...checkpoint.saving import (
    NotARegularFileError,
    check_replaceable,
    save_atomically,
    write_atomically,
)

__all__ = ['AtomicLocalBackend', 'AtomicCheckpointHook', 'NonFiniteStateError',
           'NotARegularFileError', 'check_replaceable', 'non_finite_state',
           'save_atomically', 'write_atomically']

ATOMIC_BACKEND_NAME = 'atomic_local'
# Temporary names of write_atomically for checkpoints and last_checkpoint.
LEFTOVER_TMP = re.compile(r'^(?:.+\.pth|last_checkpoint)\.(\d+)\.tmp$')
# How many non-finite tensors an error names.
SHOWN_TENSORS = 5


class NonFiniteStateError(RuntimeError):
    """The model holds NaN or inf values; it is not saved as a checkpoint."""


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


def non_finite_state(model: torch.nn.Module) -> List[str]:
    """Names of the parameters and buffers holding a NaN or inf value."""
    tensors = list(model.named_parameters()) + list(model.named_buffers())
    return [name for name, tensor in tensors
            if tensor.is_floating_point() and not torch.isfinite(tensor).all()]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_leftover_temporaries(folder: str) -> List[str]:
    """Remove ``write_atomically``'s temporary files of dead processes in
    ``folder`` (a save killed mid-write); returns the removed paths."""
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in sorted(os.listdir(folder)):
        match = LEFTOVER_TMP.match(name)
        if match is None or _process_alive(int(match[1])):
            continue
        path = osp.join(folder, name)
        if osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed


def rebase_into(folder: str, path: Optional[str]) -> Optional[str]:
    """``path`` if it lies in ``folder``, else the file of the same name in
    ``folder``: a copied run's recorded paths name the original run's files."""
    if not path or osp.dirname(osp.abspath(path)) == osp.abspath(folder):
        return path
    return osp.join(folder, osp.basename(path))


def resolve_last_checkpoint(work_dir: str, checkpoint_dir: str) -> Optional[str]:
    """The checkpoint ``work_dir/last_checkpoint`` names, found in ``checkpoint_dir``.

    Raises:
        FileNotFoundError: the named file is in neither place it may be.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as file:
        recorded = file.read().strip()
    if not recorded:
        return None
    resolved = rebase_into(checkpoint_dir, recorded)
    if not osp.isfile(resolved):
        raise FileNotFoundError(
            f'{pointer} names {recorded}, but {resolved} does not exist; a run '
            f'resumes only from checkpoints in its own folder {checkpoint_dir}.')
    return resolved


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

    def _checkpoint_dir(self, runner) -> str:
        """Where this run's checkpoints go (as ``before_train`` will set it)."""
        if self.out_dir is None or self.out_dir == runner.work_dir:
            return runner.work_dir
        return osp.join(self.out_dir, osp.basename(runner.work_dir.rstrip(osp.sep)))

    def before_run(self, runner) -> None:
        """Clean up killed saves; resume from this run's own last checkpoint.

        Runs before the runner resumes: with ``resume=True`` and no
        ``load_from``, mmengine would read ``last_checkpoint`` as written,
        i.e. an absolute path into the original folder of a copied run.
        """
        local = is_local_path(self.out_dir)
        checkpoint_dir = self._checkpoint_dir(runner) if local else None
        if is_main_process():
            for folder in {runner.work_dir, checkpoint_dir} - {None}:
                for path in remove_leftover_temporaries(folder):
                    runner.logger.info(f'Removed {path}, left by an interrupted save.')
        if local and runner._resume and runner._load_from is None:
            runner._load_from = resolve_last_checkpoint(runner.work_dir, checkpoint_dir)
            if runner._load_from is not None:
                runner.logger.info(f'Resuming from {runner._load_from}')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse a checkpoint that does not fit the model, before it is loaded.

        Called by the runner for ``load_from`` and resume. Only a ``load_from``
        that initialises training is left to mmengine's non-strict loading.
        """
        if isinstance(runner._train_loop, BaseLoop) and not runner._resume:
            return
        check_fit(runner.model, checkpoint, runner._load_from or 'the checkpoint')

    def before_train(self, runner) -> None:
        """mmengine's set-up, then the recorded paths moved into ``out_dir``."""
        super().before_train(runner)
        if not is_local_path(self.out_dir):
            return
        hub = runner.message_hub
        for key in ('last_ckpt', *self._best_info_keys()):
            if key in hub.runtime_info:
                hub.update_info(key, rebase_into(self.out_dir, hub.get_info(key)))
        self._set_best_paths({key: rebase_into(self.out_dir, path)
                              for key, path in self._best_paths().items()})

    def _best_info_keys(self) -> List[str]:
        if not self.save_best:
            return []
        if len(self.key_indicators) == 1:
            return ['best_ckpt']
        return [f'best_ckpt_{key}' for key in self.key_indicators]

    def _best_paths(self) -> Dict[str, Optional[str]]:
        """The current best checkpoint per key indicator (empty without save_best)."""
        if not self.save_best:
            return {}
        if len(self.key_indicators) == 1:
            return {self.key_indicators[0]: self.best_ckpt_path}
        return dict(self.best_ckpt_path_dict)

    def _set_best_paths(self, paths: Dict[str, Optional[str]]) -> None:
        if not paths:
            return
        if len(self.key_indicators) == 1:
            self.best_ckpt_path = paths[self.key_indicators[0]]
        else:
            self.best_ckpt_path_dict.update(paths)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, but the previous best is removed
        only after the new one is on disk."""
        previous = self._best_paths()
        if previous:
            self._check_finite(runner)
        hub = runner.message_hub
        recorded = {key: hub.get_info(key) for key in hub.runtime_info
                    if key.startswith(('best_score', 'best_ckpt'))}
        # With no previous path known, mmengine's logic removes nothing.
        self._set_best_paths({key: None for key in previous})
        try:
            super()._save_best_checkpoint(runner, metrics)
        except BaseException:  # the new best is not on disk: keep the old record
            self._set_best_paths(previous)
            for key, value in recorded.items():
                hub.update_info(key, value)
            raise
        current = self._best_paths()
        for key, old_path in previous.items():
            if current[key] is None:  # not improved: keep the previous best
                current[key] = old_path
            elif old_path and old_path != current[key] and is_main_process():
                self._remove_path(old_path)
                runner.logger.info(f'The previous best checkpoint {old_path} is removed')
        self._set_best_paths(current)

    def _check_finite(self, runner) -> None:
        """Raise instead of saving a model with NaN or inf parameters or buffers."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = non_finite_state(model)
        if bad:
            last = runner.message_hub.get_info('last_ckpt')
            raise NonFiniteStateError(
                f'Not saving a checkpoint at iteration {runner.iter + 1}: {len(bad)} '
                f'parameters / buffers hold NaN or inf ({", ".join(bad[:SHOWN_TENSORS])}'
                f'{", ..." if len(bad) > SHOWN_TENSORS else ""}). Training stopped. '
                + (f'The last checkpoint written, {last}, holds finite values only; '
                   'resume from it with a lower learning rate or checked data.'
                   if last else 'No checkpoint was written in this run.'))

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        """Check, save, then point ``last_checkpoint`` at it, then prune."""
        self._check_finite(runner)
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
        # keep_ckpt_ids exists only with max_keep_ckpts > 0 (mmengine's before_train).
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return None
        outdated_step = None
        # keep_ckpt_ids is a deque bounded by max_keep_ckpts: pop before appending.
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated_step = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        return outdated_step

    def _remove_checkpoint(self, step: int) -> None:
        self._remove_path(self.file_backend.join_path(self.out_dir,
                                                      self.filename_tmpl.format(step)))

    def _remove_path(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves folders
            self.file_backend.rmtree(path)
