"""AtomicCheckpointHook: an interrupted save never costs the previous checkpoint."""
import builtins
import errno
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.fileio.backends import local_backend
from mmengine.runner import load_checkpoint

from mmseg_serank.engine.hooks import AtomicCheckpointHook, atomic_checkpoint_hook
from mmseg_serank.engine.hooks.atomic_checkpoint_hook import write_atomically

from .conftest import ToyRegressor


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
    interrupt_writes_to(atomic_checkpoint_hook, 'iter_3.pth', monkeypatch)
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
