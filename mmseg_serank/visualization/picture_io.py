"""Saving pictures so that a failed write is an error, never a silent no-op.

``cv2.imwrite`` returns False, without a reason, when it cannot write (missing
or read-only folder, a name over 255 bytes), and callers that ignore it report
pictures that do not exist. Here the folder is checked before any drawing
starts and every write either lands on disk whole or raises naming the path;
a write cut short (full disk, a killed run) leaves the old file or none,
never a truncated picture.
"""
import os
import tempfile

import cv2
import numpy as np

from ..checkpoint.saving import write_atomically

__all__ = ['prepare_picture_dir', 'write_file', 'write_picture']


def prepare_picture_dir(directory: str) -> None:
    """Create ``directory`` if needed and prove a file can be written in it.

    Raises:
        OSError: naming the folder and the reason (a path through a regular
            file, a read-only file system, no permission, a name too long).
    """
    try:
        os.makedirs(directory, exist_ok=True)
        # A real write, not os.access: root passes access checks on folders it
        # still cannot write (read-only mounts).
        with tempfile.NamedTemporaryFile(dir=directory, prefix='.write_probe_'):
            pass
    except OSError as error:
        raise OSError(f'picture folder {directory}: cannot create it or write in it '
                      f'({error.strerror or error})') from error


def write_file(path: str, data: bytes, kind: str = 'file') -> None:
    """Write ``data`` to ``path`` atomically (complete or absent) or raise an
    OSError that names ``path``, what it is (``kind``) and the reason."""
    try:
        write_atomically(data, path)
        size = os.stat(path).st_size
    except OSError as error:
        raise OSError(f'{path}: cannot write the {kind} ({error.strerror or error}; folder '
                      'not writable, name too long or disk full?)') from error
    if size != len(data):
        raise OSError(f'{path}: cannot write the {kind} ({size} of {len(data)} bytes '
                      'written; disk full?)')


def write_picture(path: str, picture: np.ndarray) -> None:
    """Write ``picture`` (BGR or gray uint8) as a PNG at ``path`` through
    :func:`write_file`, or raise naming it."""
    encoded, data = cv2.imencode('.png', picture)
    if not encoded:
        raise ValueError(f'{path}: OpenCV cannot encode a picture of shape '
                         f'{picture.shape} and dtype {picture.dtype} as PNG')
    write_file(path, data.tobytes(), 'picture')
