"""Writing checkpoint files so readers see the old file or the new one, never half.

A save killed mid-write (pre-emption, full disk, Ctrl-C) must not leave a
truncated ``.pth`` behind a name that ``--resume``, ``tools/test.py`` or a
converter's user will read. Every checkpoint the package writes (the runner's,
through ``AtomicLocalBackend``; converted and reparameterised files) goes
through :func:`write_atomically`.
"""
import io
import os
import os.path as osp
import stat
from pathlib import Path
from typing import Union

import torch

__all__ = ['NotARegularFileError', 'check_replaceable', 'save_atomically', 'write_atomically']


class NotARegularFileError(OSError):
    """The output path exists and is not a regular file (a device, FIFO, socket,
    folder or link), which a write must never replace."""


def check_replaceable(filepath: Union[str, Path]) -> None:
    """Raise :class:`NotARegularFileError` unless ``filepath`` is absent or a
    regular file.

    Writers here rename a finished temporary file onto the output name; done
    onto ``/dev/null``, a FIFO or a link, that replaces the node itself (as
    root, ``/dev/full`` became a 12 MB file), so such paths are refused.
    """
    filepath = str(filepath)
    if not osp.lexists(filepath):
        return
    mode = os.lstat(filepath).st_mode
    if not stat.S_ISREG(mode):
        kind = ('a folder' if stat.S_ISDIR(mode) else 'a symbolic link' if stat.S_ISLNK(mode)
                else 'a device' if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else 'a FIFO' if stat.S_ISFIFO(mode) else 'a socket' if stat.S_ISSOCK(mode)
                else 'not a regular file')
        raise NotARegularFileError(
            f'{filepath} is {kind}; refusing to replace it with the output file. '
            'Give the path of a new or regular file.')


def write_atomically(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so readers see the old file or the new one.

    Raises:
        NotARegularFileError: ``filepath`` exists and is not a regular file.
    """
    filepath = str(filepath)
    check_replaceable(filepath)
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


def save_atomically(obj: object, filepath: Union[str, Path]) -> None:
    """``torch.save(obj, filepath)`` through :func:`write_atomically`."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomically(buffer.getvalue(), filepath)
