"""IRSTDDataset and the benchmark layouts: split files, suffixes, build-time errors."""
import re

import cv2
import numpy as np
import pytest

from mmseg_serank.datasets import (
    IRSTD1kDataset,
    IRSTDDataset,
    NUDTSIRSTDataset,
    SIRSTAugDataset,
    SIRSTDataset,
    read_split_file,
)
from mmseg_serank.datasets.ir_image_io import IRImageReadError

from .conftest import write_generic_set


def test_split_file_tolerates_crlf_blank_lines_spaces_and_no_final_newline(tmp_path):
    split = tmp_path / 'train.txt'
    split.write_bytes(b'\xef\xbb\xbfa_1\r\n\r\n  b_2  \r\n\n c_3')
    assert read_split_file(split) == ['a_1', 'b_2', 'c_3']


def test_generic_dataset_reads_crlf_split(tmp_path):
    write_generic_set(tmp_path, ['x0', 'x1', 'x2'])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'train.txt').write_bytes(b'x2\r\nx0\r\n\r\n')
    dataset = IRSTDDataset(data_root=str(tmp_path),
                           data_prefix=dict(img_path='images', seg_map_path='masks'),
                           ann_file='splits/train.txt')
    assert len(dataset) == 2
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'images' / 'x2.png')
    assert info['seg_map_path'] == str(tmp_path / 'masks' / 'x2.png')
    assert dataset.metainfo['classes'] == ('background', 'target')


def test_without_split_file_every_image_is_used(tmp_path):
    write_generic_set(tmp_path, ['b', 'a'])
    dataset = IRSTDDataset(data_root=str(tmp_path),
                           data_prefix=dict(img_path='images', seg_map_path='masks'))
    assert [d['img_path'].rsplit('/', 1)[1] for d in dataset.load_data_list()] == [
        'a.png', 'b.png']


def test_missing_files_fail_once_at_build_listing_all(tmp_path):
    write_generic_set(tmp_path, ['ok', 'no_mask_1', 'no_mask_2'])
    (tmp_path / 'masks' / 'no_mask_1.png').unlink()
    (tmp_path / 'masks' / 'no_mask_2.png').unlink()
    (tmp_path / 'split.txt').write_text('ok\nno_mask_1\nno_mask_2\nno_image\n')
    with pytest.raises(FileNotFoundError) as error:
        IRSTDDataset(data_root=str(tmp_path), ann_file='split.txt',
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    message = str(error.value)
    assert '4 missing or repeated file(s)' in message
    for expected in ('no_mask_1: no mask', 'no_mask_2: no mask', 'no_image: no image',
                     'no_image: no mask'):
        assert expected in message
    assert 'ok:' not in message


def test_empty_image_folder_is_an_error(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(FileNotFoundError, match='no images found'):
        IRSTDDataset(data_root=str(tmp_path),
                     data_prefix=dict(img_path='images', seg_map_path='masks'))


def test_suffix_candidates_pair_png_images_with_bmp_masks(tmp_path):
    write_generic_set(tmp_path, ['p', 'q'])
    mask = cv2.imread(str(tmp_path / 'masks' / 'q.png'), cv2.IMREAD_UNCHANGED)
    (tmp_path / 'masks' / 'q.png').unlink()
    cv2.imwrite(str(tmp_path / 'masks' / 'q.bmp'), mask)
    dataset = IRSTDDataset(data_root=str(tmp_path), seg_map_suffix=None,
                           data_prefix=dict(img_path='images', seg_map_path='masks'))
    assert [d['seg_map_path'][-5:] for d in dataset.load_data_list()] == ['p.png', 'q.bmp']


def test_reduce_zero_label_is_refused(tmp_path):
    with pytest.raises(ValueError, match='reduce_zero_label'):
        IRSTDDataset(data_root=str(tmp_path), reduce_zero_label=True)


def _write_pair(image_path, mask_path):
    image_path.parent.mkdir(parents=True, exist_ok=True)
    mask_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(image_path), np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(mask_path), np.zeros((4, 4), np.uint8))


def test_benchmark_classes_default_to_the_published_layouts(tmp_path):
    _write_pair(tmp_path / 'sirst/images/Misc_1.png',
                tmp_path / 'sirst/masks/Misc_1_pixels0.png')
    _write_pair(tmp_path / 'nudt/images/000001.png', tmp_path / 'nudt/masks/000001.png')
    _write_pair(tmp_path / 'irstd1k/IRSTD1k_Img/XDU0.png',
                tmp_path / 'irstd1k/IRSTD1k_Label/XDU0.png')
    _write_pair(tmp_path / 'aug/test/images/t.png', tmp_path / 'aug/test/masks/t.png')
    built = [SIRSTDataset(data_root=str(tmp_path / 'sirst')),
             NUDTSIRSTDataset(data_root=str(tmp_path / 'nudt')),
             IRSTD1kDataset(data_root=str(tmp_path / 'irstd1k')),
             SIRSTAugDataset(data_root=str(tmp_path / 'aug'), split='test')]
    expected_masks = ['sirst/masks/Misc_1_pixels0.png', 'nudt/masks/000001.png',
                      'irstd1k/IRSTD1k_Label/XDU0.png', 'aug/test/masks/t.png']
    for dataset, mask in zip(built, expected_masks):
        assert len(dataset) == 1
        assert dataset.get_data_info(0)['seg_map_path'] == str(tmp_path / mask)


def test_build_reports_missing_unreadable_and_mismatched_files_at_once(tmp_path):
    names = ['ok', 'rescaled', 'no_mask', 'empty_image', 'text_mask', 'wrong_size']
    write_generic_set(tmp_path, names)
    (tmp_path / 'masks' / 'no_mask.png').unlink()
    (tmp_path / 'images' / 'empty_image.png').write_bytes(b'')
    (tmp_path / 'masks' / 'text_mask.png').write_text('not an image')
    cv2.imwrite(str(tmp_path / 'masks' / 'wrong_size.png'), np.zeros((24, 30), np.uint8))
    # Same aspect ratio (SIRST's Misc_111 case): the loader resizes it, no problem.
    cv2.imwrite(str(tmp_path / 'masks' / 'rescaled.png'), np.zeros((48, 64), np.uint8))
    with pytest.raises(IRImageReadError) as error:
        IRSTDDataset(data_root=str(tmp_path),
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    message = str(error.value)
    assert '1 missing or repeated file(s) and 3 unreadable or mismatched pair(s)' in message
    for expected in ('no_mask: no mask',
                     f'empty_image: {tmp_path / "images" / "empty_image.png"}: unreadable',
                     f'text_mask: {tmp_path / "masks" / "text_mask.png"}: unreadable',
                     f'wrong_size: mask {tmp_path / "masks" / "wrong_size.png"} is 30x24'):
        assert expected in message, expected
    assert 'ok:' not in message and 'rescaled:' not in message


def test_split_files_are_read_by_byte_order_mark_and_bad_ones_named(tmp_path):
    write_generic_set(tmp_path, ['a', 'b'])
    split = tmp_path / 'split.txt'
    for text, encoding in (('\ufeffb\r\na\r\n', 'utf-16-le'), ('\ufeffb\na', 'utf-16-be'),
                           ('\ufeffb\na\n', 'utf-8'), ('b\na\n', 'utf-8')):
        split.write_bytes(text.encode(encoding))
        assert read_split_file(split) == ['b', 'a'], encoding
        dataset = IRSTDDataset(data_root=str(tmp_path), ann_file='split.txt',
                               data_prefix=dict(img_path='images', seg_map_path='masks'))
        assert len(dataset) == 2
    split.write_bytes('b\nà\n'.encode('latin-1'))
    with pytest.raises(ValueError, match=re.escape(f'split file {split}: not valid UTF-8')):
        IRSTDDataset(data_root=str(tmp_path), ann_file='split.txt',
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    split.write_bytes('b\na\n'.encode('utf-16-le'))
    with pytest.raises(ValueError, match=re.escape(f'split file {split}: contains NUL')):
        read_split_file(split)


def test_a_name_listed_twice_is_an_error_at_build_time(tmp_path):
    """The dataset held the image twice, so every test metric weighed it double."""
    write_generic_set(tmp_path, ['a', 'b', 'c'])
    split = tmp_path / 'split.txt'
    split.write_text('a\nb\na\nc\nb\r\n')
    with pytest.raises(FileNotFoundError) as error:
        IRSTDDataset(data_root=str(tmp_path), ann_file='split.txt',
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    message = str(error.value)
    assert '2 missing or repeated file(s)' in message
    assert f"a: listed 2 times in split file {split} ('a', 'a' are all" in message
    assert "b: listed 2 times" in message
    assert 'c:' not in message


def test_a_symlink_loop_is_named_as_a_broken_link_not_a_missing_file(tmp_path):
    write_generic_set(tmp_path, ['a', 'b'])
    image = tmp_path / 'images' / 'b.png'
    image.unlink()
    image.symlink_to(image)  # a loop
    (tmp_path / 'split.txt').write_text('a\nb\n')
    with pytest.raises(FileNotFoundError) as error:
        IRSTDDataset(data_root=str(tmp_path), ann_file='split.txt',
                     data_prefix=dict(img_path='images', seg_map_path='masks'))
    message = str(error.value)
    assert f'b: {image} is a broken symbolic link (Too many levels of symbolic links)' in message
    assert 'b: no image' not in message
