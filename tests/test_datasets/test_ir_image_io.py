"""Decoding of every image and mask format IRSTD sets use."""
import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg_serank.datasets.ir_image_io import (
    IRImageReadError,
    read_binary_mask,
    read_ir_image,
    read_mask_labels,
    scale_to_uint8,
)


def _assert_bgr_uint8(image: np.ndarray, height: int, width: int) -> None:
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8


def test_16bit_grey_keeps_dynamic_range(tmp_path):
    # A dim 16-bit frame: values 1000..1255 all have top byte 3 or 4, so mmcv's
    # colour loading (top 8 bits) would flatten it to two grey levels.
    frame = (1000 + np.arange(256, dtype=np.uint16)).reshape(16, 16)
    path = tmp_path / 'frame16.png'
    cv2.imwrite(str(path), frame)
    image = read_ir_image(path)
    _assert_bgr_uint8(image, 16, 16)
    assert image.min() == 0 and image.max() == 255
    assert len(np.unique(image[..., 0])) == 256
    shifted = read_ir_image(path, high_bit_depth='shift')
    assert set(np.unique(shifted).tolist()) == {3, 4}


def test_16bit_percentile_clips_hot_pixel(tmp_path):
    frame = np.tile(np.arange(100, 200, dtype=np.uint16), (10, 1))
    frame[0, 0] = 60000
    path = tmp_path / 'hot.png'
    cv2.imwrite(str(path), frame)
    minmax = read_ir_image(path)
    robust = read_ir_image(path, high_bit_depth='percentile', percentiles=(1, 99))
    # The hot pixel squeezes min-max scaling into a few levels; percentiles do not.
    assert len(np.unique(minmax)) < 5
    assert len(np.unique(robust)) > 80


def test_unknown_high_bit_depth_mode_is_rejected():
    with pytest.raises(ValueError, match='high_bit_depth'):
        scale_to_uint8(np.zeros((2, 2), np.uint16), high_bit_depth='gamma')


def test_palette_rgba_bmp_and_grey_alpha_decode_to_bgr(tmp_path):
    indices = (np.arange(12 * 10) % 3).astype(np.uint8).reshape(12, 10)
    palette_image = Image.fromarray(indices, 'P')
    palette_image.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    palette_image.save(tmp_path / 'p.png')
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 17
    Image.fromarray(rgba, 'RGBA').save(tmp_path / 'rgba.png')
    cv2.imwrite(str(tmp_path / 'grey.bmp'), np.full((12, 10), 77, np.uint8))
    Image.fromarray(np.dstack([np.full((12, 10), 9, np.uint8)] * 2), 'LA').save(
        tmp_path / 'la.png')

    palette_bgr = read_ir_image(tmp_path / 'p.png')
    _assert_bgr_uint8(palette_bgr, 12, 10)
    assert palette_bgr[0, 1].tolist() == [0, 0, 255]  # red in BGR
    assert palette_bgr[0, 2].tolist() == [255, 0, 0]  # blue in BGR
    rgba_bgr = read_ir_image(tmp_path / 'rgba.png')
    _assert_bgr_uint8(rgba_bgr, 12, 10)
    assert rgba_bgr[0, 0].tolist() == [0, 0, 200]
    bmp = read_ir_image(tmp_path / 'grey.bmp')
    _assert_bgr_uint8(bmp, 12, 10)
    assert np.all(bmp == 77)
    assert np.all(read_ir_image(tmp_path / 'la.png') == 9)


def test_truncated_png_names_the_file(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    full = tmp_path / 'full.png'
    cv2.imwrite(str(full), noise)
    data = full.read_bytes()
    truncated = tmp_path / 'truncated.png'
    truncated.write_bytes(data[:len(data) * 2 // 3])
    with pytest.raises(IRImageReadError, match='truncated.png'):
        read_ir_image(truncated)
    with pytest.raises(IRImageReadError, match='truncated.png'):
        read_binary_mask(truncated)


def test_missing_and_non_image_files_name_the_file(tmp_path):
    with pytest.raises(IRImageReadError, match='absent.png'):
        read_ir_image(tmp_path / 'absent.png')
    text = tmp_path / 'notes.png'
    text.write_text('not an image')
    with pytest.raises(IRImageReadError, match='notes.png'):
        read_ir_image(text)


def test_masks_of_every_kind_binarise_to_zero_one(tmp_path):
    target = np.zeros((8, 9), bool)
    target[2:4, 3:6] = True
    Image.fromarray(target.astype(np.uint8) * 255).save(tmp_path / 'm255.png')
    Image.fromarray(target.astype(np.uint8)).save(tmp_path / 'm01.png')
    rgb = np.zeros((8, 9, 3), np.uint8)
    rgb[target, 1] = 128  # target only in the green channel
    Image.fromarray(rgb).save(tmp_path / 'mrgb.png')
    palette = Image.fromarray(target.astype(np.uint8), 'P')
    palette.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)  # index 0 drawn white
    palette.save(tmp_path / 'mp.png')
    cv2.imwrite(str(tmp_path / 'm16.png'), target.astype(np.uint16) * 65535)
    Image.fromarray(target).save(tmp_path / 'm1bit.bmp')
    for name in ('m255.png', 'm01.png', 'mrgb.png', 'mp.png', 'm16.png', 'm1bit.bmp'):
        mask = read_binary_mask(tmp_path / name)
        assert mask.dtype == np.uint8 and mask.shape == (8, 9), name
        assert np.array_equal(mask, target.astype(np.uint8)), name
    assert set(np.unique(read_mask_labels(tmp_path / 'mrgb.png'))) == {0, 128 << 8}


@pytest.mark.parametrize('ext', ['.png', '.jpg', '.bmp', '.tif'])
def test_no_truncation_point_gives_a_partial_image(tmp_path, ext):
    """The image is decoded once, by OpenCV: it must refuse every truncated file
    (a TIFF short of its last padding bytes still holds every pixel)."""
    image = np.random.default_rng(0).integers(0, 255, (12, 15, 3), dtype=np.uint8)
    full_path = tmp_path / f'full{ext}'
    cv2.imwrite(str(full_path), image)
    full = read_ir_image(full_path)
    data = full_path.read_bytes()
    short = tmp_path / f'short{ext}'
    for length in range(1, len(data)):
        short.write_bytes(data[:length])
        try:
            decoded = read_ir_image(short)
        except IRImageReadError as error:
            assert f'short{ext}' in str(error)
        else:
            assert np.array_equal(decoded, full), f'{ext} cut at {length} bytes'


def test_a_file_that_is_no_image_is_named_without_an_object_repr(tmp_path):
    """PIL's message named the in-memory buffer: '<_io.BytesIO object at 0x...>'."""
    path = tmp_path / 'garbage.png'
    path.write_bytes(b'not an image at all')
    with pytest.raises(IRImageReadError) as error:
        read_ir_image(str(path))
    message = str(error.value)
    assert message.startswith(f'{path}: ') and 'BytesIO' not in message, message
