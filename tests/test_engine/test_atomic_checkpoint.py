"""AtomicCheckpointHook: an interrupted save never costs the previous checkpoint."""
import builtins
import errno
import glob
import hashlib
import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch
from mmengine.fileio.backends import local_backend
from mmengine.runner import load_checkpoint

from mmseg_serank.checkpoint import CheckpointMismatchError, saving, write_atomically
from mmseg_serank.engine.hooks import AtomicCheckpointHook
from mmseg_serank.engine.hooks.atomic_checkpoint_hook import NonFiniteStateError

from .conftest import ToyBNRegressor, ToyRegressor


class HalfWrittenFile:
    """A real file whose first write stores half the bytes, then fails (disk full)."""

    def __init__(self, file) -> None:
        self.file = file

    def write(self, data) -> int:
        self.file.write(bytes(data[:len(data) // 2]))
        self.file.flush()
        raise OSError(errno.ENOSPC, 'No space left on device (simulated)')

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()


def interrupt_writes_to(module, fragment: str, monkeypatch) -> None:
    """Make ``open(path, 'wb')`` in ``module`` fail mid-write when path has fragment."""

    def open_interrupted(path, mode='r', *args, **kwargs):
        file = builtins.open(path, mode, *args, **kwargs)
        if 'w' in mode and fragment in str(path):
            return HalfWrittenFile(file)
        return file

    monkeypatch.setattr(module, 'open', open_interrupted, raising=False)


def read_last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as file:
        return file.read().strip()


def checkpoint_names(work_dir: str):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, 'iter_*')))


def test_stock_checkpoint_hook_is_not_atomic(make_toy_runner, monkeypatch):
    """Why the hook exists: mmengine 0.10.7 writes the final name in place."""
    runner = make_toy_runner(max_iters=3, checkpoint=dict(
        type='CheckpointHook', interval=1, by_epoch=False, max_keep_ckpts=1))
    interrupt_writes_to(local_backend, 'iter_3.pth', monkeypatch)
    with pytest.raises(OSError, match='simulated'):
        runner.train()
    # The previous checkpoint was pruned before saving; a truncated one remains.
    assert checkpoint_names(runner.work_dir) == ['iter_3.pth']
    with pytest.raises(Exception):  # noqa: B017 (any unpickling error)
        torch.load(osp.join(runner.work_dir, 'iter_3.pth'), weights_only=False)


def test_interrupted_save_keeps_the_previous_checkpoint(make_toy_runner, monkeypatch):
    runner = make_toy_runner(max_iters=3, checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, by_epoch=False, max_keep_ckpts=1))
    interrupt_writes_to(saving, 'iter_3.pth', monkeypatch)
    with pytest.raises(OSError, match='simulated'):
        runner.train()
    work_dir = runner.work_dir
    assert checkpoint_names(work_dir) == ['iter_2.pth']
    assert not glob.glob(osp.join(work_dir, '*.tmp'))
    last = read_last_checkpoint(work_dir)
    assert osp.basename(last) == 'iter_2.pth'
    checkpoint = load_checkpoint(ToyRegressor(), last, map_location='cpu')
    assert checkpoint['meta']['iter'] == 2


def test_prunes_after_saving_and_resumes(make_toy_runner):
    checkpoint = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                      max_keep_ckpts=2)
    first = make_toy_runner(max_iters=3, checkpoint=checkpoint)
    first.train()
    assert checkpoint_names(first.work_dir) == ['iter_2.pth', 'iter_3.pth']
    resumed = make_toy_runner(max_iters=4, checkpoint=checkpoint, resume=True)
    resumed.train()
    assert resumed.iter == 4
    assert checkpoint_names(resumed.work_dir) == ['iter_3.pth', 'iter_4.pth']
    assert osp.basename(read_last_checkpoint(resumed.work_dir)) == 'iter_4.pth'
    assert not glob.glob(osp.join(resumed.work_dir, '*.tmp'))


def test_uses_the_atomic_backend_only_for_local_folders():
    assert AtomicCheckpointHook(interval=1).backend_args == dict(backend='atomic_local')
    remote = AtomicCheckpointHook(interval=1, out_dir='s3://bucket/run')
    assert remote.backend_args is None
    custom = dict(backend='local')
    assert AtomicCheckpointHook(interval=1, backend_args=custom).backend_args == custom


def test_write_atomically_replaces_and_honours_umask(tmp_path):
    target = tmp_path / 'sub' / 'file.bin'
    write_atomically(b'old', target)
    write_atomically(b'new contents', target)
    assert target.read_bytes() == b'new contents'
    reference = tmp_path / 'plain.bin'
    reference.write_bytes(b'x')
    assert os.stat(target).st_mode == os.stat(reference).st_mode
    assert sorted(p.name for p in target.parent.iterdir()) == ['file.bin']


def file_hashes(folder) -> dict:
    """SHA-256 of every file under ``folder``, by relative path."""
    return {osp.relpath(path, folder): hashlib.sha256(open(path, 'rb').read()).hexdigest()
            for path in glob.glob(osp.join(folder, '**'), recursive=True)
            if osp.isfile(path)}


def checkpoint_hook(runner) -> AtomicCheckpointHook:
    return next(hook for hook in runner.hooks if isinstance(hook, AtomicCheckpointHook))


BEST_ON_SCORE = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                     max_keep_ckpts=1, save_best='score', rule='greater')


def test_new_best_is_on_disk_before_the_old_one_is_removed(make_toy_runner, monkeypatch):
    runner = make_toy_runner(max_iters=2, checkpoint=BEST_ON_SCORE)
    runner.train()
    hook = checkpoint_hook(runner)
    hook._save_best_checkpoint(runner, dict(score=0.5))
    first_best = osp.join(runner.work_dir, 'best_score_iter_2.pth')
    assert osp.isfile(first_best)

    def killed_save(*args, **kwargs):
        raise KeyboardInterrupt('killed while writing the new best (simulated)')

    runner.train_loop._iter = 3  # as if training had gone on
    monkeypatch.setattr(runner, 'save_checkpoint', killed_save)
    with pytest.raises(KeyboardInterrupt):
        hook._save_best_checkpoint(runner, dict(score=0.9))
    # mmengine removed the old best before writing the new one.
    assert osp.isfile(first_best)
    assert hook.best_ckpt_path == first_best

    monkeypatch.undo()
    hook._save_best_checkpoint(runner, dict(score=0.9))
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(runner.work_dir, 'best_*')))
    assert names == ['best_score_iter_3.pth']
    hook._save_best_checkpoint(runner, dict(score=0.1))  # no improvement: kept
    assert osp.isfile(osp.join(runner.work_dir, 'best_score_iter_3.pth'))


def test_copied_work_dir_resumes_and_prunes_only_its_own_files(make_toy_runner, tmp_path):
    run1, run2 = str(tmp_path / 'run1'), str(tmp_path / 'run2')
    first = make_toy_runner(max_iters=2, checkpoint=BEST_ON_SCORE, work_dir=run1)
    first.train()
    checkpoint_hook(first)._save_best_checkpoint(first, dict(score=0.5))
    shutil.copytree(run1, run2)
    before = file_hashes(run1)
    assert read_last_checkpoint(run2) == osp.join(run1, 'iter_2.pth')

    resumed = make_toy_runner(max_iters=3, checkpoint=BEST_ON_SCORE, work_dir=run2,
                              resume=True)
    resumed.train()
    hook = checkpoint_hook(resumed)
    hook._save_best_checkpoint(resumed, dict(score=0.9))

    assert file_hashes(run1) == before
    assert resumed._load_from == osp.join(run2, 'iter_2.pth')
    assert checkpoint_names(run2) == ['iter_3.pth']
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(run2, 'best_*'))) == [
        'best_score_iter_3.pth']
    assert read_last_checkpoint(run2) == osp.join(run2, 'iter_3.pth')


def test_resume_refuses_a_pointer_to_a_file_outside_its_folder(make_toy_runner, tmp_path):
    checkpoint = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                      max_keep_ckpts=5)
    elsewhere = str(tmp_path / 'elsewhere')
    make_toy_runner(max_iters=1, checkpoint=checkpoint, work_dir=elsewhere).train()
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(osp.join(elsewhere, 'iter_1.pth'))
    runner = make_toy_runner(max_iters=10, checkpoint=checkpoint, resume=True)
    with pytest.raises(FileNotFoundError, match='its own folder'):
        runner.train()


def test_leftover_temporaries_of_killed_saves_are_removed(make_toy_runner, tmp_path):
    dead = subprocess.Popen(['true'])
    dead.wait()
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    ours = [f'iter_4.pth.{dead.pid}.tmp', f'last_checkpoint.{dead.pid}.tmp']
    not_ours = ['notes.tmp', 'iter_4.pth.tmp', f'data.csv.{dead.pid}.tmp',
                f'iter_5.pth.{os.getpid()}.tmp']  # a live process's write
    for name in ours + not_ours:
        (work_dir / name).write_bytes(b'partial')
    runner = make_toy_runner(max_iters=1, checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, by_epoch=False, max_keep_ckpts=5))
    runner.train()
    left = sorted(p.name for p in work_dir.iterdir() if p.name.endswith('.tmp'))
    assert left == sorted(not_ours)


def test_no_checkpoint_of_non_finite_weights(make_toy_runner):
    runner = make_toy_runner(
        max_iters=6, model=ToyBNRegressor(huge_batch_call=3),
        checkpoint=dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                        max_keep_ckpts=5),
        custom_hooks=[dict(type='NonFiniteLossHook')])
    with pytest.raises(NonFiniteStateError,
                       match=r'iteration 3: 1 .*bn\.running_var.*iter_2\.pth'):
        runner.train()
    work_dir = runner.work_dir
    assert checkpoint_names(work_dir) == ['iter_1.pth', 'iter_2.pth']
    last = read_last_checkpoint(work_dir)
    assert osp.basename(last) == 'iter_2.pth'
    state = load_checkpoint(ToyBNRegressor(huge_batch_call=0), last,
                            map_location='cpu')['state_dict']
    assert all(torch.isfinite(value).all() for value in state.values())


def test_default_keeps_every_checkpoint(make_toy_runner):
    """max_keep_ckpts=-1 (mmengine's default): no pruning, no crash."""
    runner = make_toy_runner(max_iters=3, checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, by_epoch=False))
    runner.train()
    assert checkpoint_names(runner.work_dir) == ['iter_1.pth', 'iter_2.pth', 'iter_3.pth']


def test_resuming_into_another_model_is_an_error(make_toy_runner):
    checkpoint = dict(type='AtomicCheckpointHook', interval=1, by_epoch=False,
                      max_keep_ckpts=5)
    make_toy_runner(max_iters=2, checkpoint=checkpoint).train()
    other = make_toy_runner(max_iters=4, checkpoint=checkpoint, resume=True,
                            model=ToyBNRegressor(huge_batch_call=0))
    with pytest.raises(CheckpointMismatchError,
                       match=r'iter_2\.pth" does not fit .*missing keys: bn\.weight'):
        other.train()
