"""Decoding of infrared images and target masks in every format IRSTD sets use.

IRSTD benchmarks mix PNG modes (L, RGB, RGBA, palette), BMP masks and 16-bit
sensor frames. mmcv's readers handle these inconsistently: ``imread('color')``
drops 16-bit data to its top byte (a dim IR frame becomes almost black),
palette masks decode to colours rather than indices, and a file that does not
decode comes back as ``None``. The functions here give one answer for all of
them and raise :class:`IRImageReadError` naming the file. Files are read through
``mmengine.fileio`` (``backend_args`` as in mmseg's loaders) and decoded once.
"""
import io
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

import cv2
import numpy as np
from mmengine import fileio
from PIL import Image, ImageFile

PathLike = Union[str, Path]

#: Ways to bring a frame with more than 8 bits into 0..255.
#: ``minmax``: per-image min..max stretch (keeps all dynamic range; default).
#: ``percentile``: stretch between two percentiles, clipping outliers such as
#: hot pixels that would otherwise compress the scene into a few grey levels.
#: ``shift``: keep the top 8 bits of the integer type (what mmcv/cv2 do).
HIGH_BIT_DEPTH_MODES = ('minmax', 'percentile', 'shift')


class IRImageReadError(OSError):
    """An image or mask file is missing, truncated, corrupt or of an unusable kind."""


@contextmanager
def _strict_truncation() -> Iterator[None]:
    """Make PIL raise on truncated files even if a library enabled leniency globally."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def read_file_bytes(path: PathLike, backend_args: Optional[dict] = None) -> bytes:
    """The bytes of ``path`` from the storage ``backend_args`` names (local by default)."""
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as error:
        raise IRImageReadError(f'{path}: file not found') from error
    except OSError as error:
        raise IRImageReadError(f'{path}: cannot read ({error})') from error
    if not data:
        raise IRImageReadError(f'{path}: empty file')
    return data


def open_complete_image(data: bytes, path: PathLike) -> Image.Image:
    """Open the bytes ``data`` of ``path`` with PIL and decode every pixel, so
    truncation is detected here."""
    try:
        with _strict_truncation():
            image = Image.open(io.BytesIO(data))
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        # PIL names the in-memory buffer (<_io.BytesIO object at 0x...>), not the file.
        reason = re.sub(r'cannot identify image file <_io\.BytesIO object at 0x[0-9a-fA-F]+>',
                        'not an image format PIL recognises', str(error))
        reason = re.sub(r'<_io\.BytesIO object at 0x[0-9a-fA-F]+>', 'the file', reason)
        raise IRImageReadError(f'{path}: cannot decode ({reason})') from error
    return image


def read_image_size(path: PathLike) -> Tuple[int, int]:
    """``(height, width)`` from the file header alone (cheap: no pixel is decoded).

    Catches missing, empty, non-image and header-corrupt files; damage after the
    header (a truncated pixel stream) shows only when the file is decoded.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
    except FileNotFoundError as error:
        raise IRImageReadError(f'{path}: file not found') from error
    except (OSError, SyntaxError, ValueError) as error:
        raise IRImageReadError(f'{path}: unreadable image header ({error})') from error
    return height, width


def _decode_unchanged(data: bytes, path: PathLike) -> np.ndarray:
    """Decode with OpenCV at the stored bit depth (PIL reduces 16-bit RGB to 8 bits).

    OpenCV returns no image for a truncated or corrupt file (checked for every
    truncation point of PNG, JPEG, BMP and TIFF files in
    tests/test_datasets/test_ir_image_io.py); only then PIL decodes the bytes,
    to say what is wrong.
    """
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        open_complete_image(data, path).close()  # raises naming the problem, if PIL sees one
        raise IRImageReadError(f'{path}: OpenCV cannot decode this file')
    return array


def scale_to_uint8(array: np.ndarray,
                   high_bit_depth: str = 'minmax',
                   percentiles: Tuple[float, float] = (0.5, 99.5),
                   path: PathLike = '<array>') -> np.ndarray:
    """Map a frame of any numeric dtype to uint8; uint8 input is returned unchanged."""
    if array.dtype == np.uint8:
        return array
    if high_bit_depth not in HIGH_BIT_DEPTH_MODES:
        raise ValueError(f'high_bit_depth must be one of {HIGH_BIT_DEPTH_MODES}, '
                         f'got {high_bit_depth!r}')
    if high_bit_depth == 'shift':
        if not np.issubdtype(array.dtype, np.unsignedinteger):
            raise IRImageReadError(
                f'{path}: high_bit_depth="shift" needs unsigned integer pixels, '
                f'this file stores {array.dtype}')
        shift = 8 * (array.dtype.itemsize - 1)
        return (array >> shift).astype(np.uint8)
    values = array.astype(np.float64)
    if high_bit_depth == 'minmax':
        low, high = float(values.min()), float(values.max())
    else:
        low, high = (float(v) for v in np.percentile(values, percentiles))
    if high <= low:
        return np.zeros(array.shape, np.uint8)
    stretched = (np.clip(values, low, high) - low) * (255.0 / (high - low))
    return np.rint(stretched).astype(np.uint8)


def read_ir_image(path: PathLike,
                  high_bit_depth: str = 'minmax',
                  percentiles: Tuple[float, float] = (0.5, 99.5),
                  backend_args: Optional[dict] = None) -> np.ndarray:
    """Read any IR image as an HxWx3 uint8 BGR array, like mmcv's colour loading.

    Grey frames are replicated to three channels, alpha is dropped, palettes are
    expanded to colours and frames deeper than 8 bits are scaled by
    ``high_bit_depth`` (see :data:`HIGH_BIT_DEPTH_MODES`). ``backend_args``
    selects the storage, as in ``mmengine.fileio.get``.
    """
    array = _decode_unchanged(read_file_bytes(path, backend_args), path)
    return ir_array_to_bgr(array, high_bit_depth, percentiles, path)


def ir_array_to_bgr(array: np.ndarray,
                    high_bit_depth: str = 'minmax',
                    percentiles: Tuple[float, float] = (0.5, 99.5),
                    path: PathLike = '<array>') -> np.ndarray:
    """An already decoded frame (as ``cv2.imread(..., IMREAD_UNCHANGED)`` gives
    it: grey, BGR or BGRA, any bit depth) as :func:`read_ir_image` returns it."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[:, :, :3]
    elif array.ndim == 3 and array.shape[2] in (1, 2):
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise IRImageReadError(f'{path}: unsupported image shape {array.shape} '
                               '(expected HxW, HxWx1, HxWx3 or HxWx4)')
    array = scale_to_uint8(array, high_bit_depth, percentiles, path)
    if array.ndim == 2:
        array = cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(array)


def read_mask_labels(path: PathLike, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a mask as a 2-D integer array of the stored labels.

    Palette masks give their indices (not colours), grey masks their values and
    colour masks one packed ``R << 16 | G << 8 | B`` value a pixel; alpha is
    ignored. Zero is background in every case. ``backend_args`` as in
    :func:`read_ir_image`.
    """
    with open_complete_image(read_file_bytes(path, backend_args), path) as image:
        if image.mode in ('RGBA', 'LA', 'PA'):
            image = image.convert(image.mode[:-1])
        if image.mode == 'CMYK':
            image = image.convert('RGB')
        array = np.asarray(image)
    if array.ndim == 3:
        channels = array.astype(np.int64)
        array = (channels[..., 0] << 16) | (channels[..., 1] << 8) | channels[..., 2]
    return np.asarray(array).astype(np.int64, copy=False)


def binarize_mask(labels: np.ndarray) -> np.ndarray:
    """Any nonzero label (in any channel) is target: returns {0, 1} uint8, 2-D."""
    target = labels != 0
    if target.ndim == 3:
        target = target.any(axis=2)
    return target.astype(np.uint8)


def read_binary_mask(path: PathLike, backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a target mask of any format as a {0, 1} uint8 array."""
    return binarize_mask(read_mask_labels(path, backend_args))
