"""tools/dataset_converters/check_dataset.py on the real SIRST and on broken sets."""
import importlib.util
import os
import subprocess
import sys

import cv2
import numpy as np

from .conftest import REPO_ROOT, write_generic_set

_spec = importlib.util.spec_from_file_location(
    'check_dataset', REPO_ROOT / 'tools' / 'dataset_converters' / 'check_dataset.py')
check_dataset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_dataset)


def test_passes_on_real_sirst_with_its_statistics(sirst_root, capsys):
    assert check_dataset.main([str(sirst_root), '--layout', 'sirst']) == 0
    output = capsys.readouterr().out
    assert '427 names, 427 decoded' in output
    assert 'targets: 533 in all' in output
    assert 'idx_427/test.txt: 86 names, 0 missing or repeated files' in output
    assert 'OK: 0 error(s)' in output


def test_passes_on_clean_generic_set(tmp_path, capsys):
    write_generic_set(tmp_path, ['a', 'b', 'c'])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'train.txt').write_text('a\r\nb\r\n')
    (tmp_path / 'splits' / 'test.txt').write_text('c')
    assert check_dataset.main([str(tmp_path)]) == 0
    assert 'targets: 3 in all; per image 1: 3' in capsys.readouterr().out


def test_fails_on_broken_set_naming_each_problem(tmp_path, capsys):
    write_generic_set(tmp_path, ['good', 'no_mask', 'grey_mask', 'wrong_size', 'cut'])
    (tmp_path / 'masks' / 'no_mask.png').unlink()
    grey = np.zeros((24, 32), np.uint8)
    grey[1:3, 1:3], grey[5:7, 5:7] = 255, 128
    cv2.imwrite(str(tmp_path / 'masks' / 'grey_mask.png'), grey)
    cv2.imwrite(str(tmp_path / 'masks' / 'wrong_size.png'), np.zeros((24, 30), np.uint8))
    image_bytes = (tmp_path / 'images' / 'cut.png').read_bytes()
    (tmp_path / 'images' / 'cut.png').write_bytes(image_bytes[:len(image_bytes) // 2])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'test.txt').write_text('good\nabsent\n')
    assert check_dataset.main([str(tmp_path), '--layout', 'generic']) == 1
    output = capsys.readouterr().out
    for expected in ('no_mask: no mask', 'grey_mask: mask', 'not binary (values 0, 128, 255)',
                     'wrong_size: mask', 'cut: ', 'cut.png', 'absent: no image', 'FAILED'):
        assert expected in output, expected


def test_empty_split_file_and_empty_image_folder_fail(tmp_path, capsys):
    write_generic_set(tmp_path / 'set', ['a', 'b'])
    (tmp_path / 'set' / 'splits').mkdir()
    (tmp_path / 'set' / 'splits' / 'train.txt').write_text('a\nb\n')
    (tmp_path / 'set' / 'splits' / 'test.txt').write_text('\n \n')
    assert check_dataset.main([str(tmp_path / 'set')]) == 1
    output = capsys.readouterr().out
    assert 'test.txt: the split file lists no names' in output
    (tmp_path / 'empty' / 'images').mkdir(parents=True)
    (tmp_path / 'empty' / 'masks').mkdir()
    assert check_dataset.main([str(tmp_path / 'empty')]) == 1
    assert 'no images in' in capsys.readouterr().out


def test_one_pixel_all_target_mask_is_binary(tmp_path, capsys):
    write_generic_set(tmp_path, ['tiny', 'full'], size=(1, 1))
    cv2.imwrite(str(tmp_path / 'masks' / 'tiny.png'), np.full((1, 1), 255, np.uint8))
    cv2.imwrite(str(tmp_path / 'masks' / 'full.png'), np.full((1, 1), 1, np.uint8))
    assert check_dataset.main([str(tmp_path)]) == 0
    assert 'targets: 2 in all; per image 1: 2' in capsys.readouterr().out


def test_split_files_in_utf16_are_read_and_latin1_is_named(tmp_path, capsys):
    write_generic_set(tmp_path, ['é1', 'b'])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'train.txt').write_bytes('\ufeffé1\r\n'.encode('utf-16-le'))
    (tmp_path / 'splits' / 'test.txt').write_bytes('\ufeffb\n'.encode('utf-16-be'))
    assert check_dataset.main([str(tmp_path)]) == 0
    assert 'train.txt: 1 names, 0 missing or repeated files' in capsys.readouterr().out
    (tmp_path / 'splits' / 'train.txt').write_bytes('é1\n'.encode('latin-1'))
    (tmp_path / 'splits' / 'test.txt').write_bytes('b\n'.encode('utf-16-le'))  # no mark
    assert check_dataset.main([str(tmp_path)]) == 1
    output = capsys.readouterr().out
    assert f'split file {tmp_path / "splits" / "train.txt"}: not valid UTF-8' in output
    assert f'split file {tmp_path / "splits" / "test.txt"}: contains NUL' in output


def test_tiff_set_is_checked_with_suffix_options(tmp_path):
    """Through the real command: a TIFF set fails with the PNG defaults and passes
    with --img-suffix / --seg-suffix."""
    write_generic_set(tmp_path, ['t0', 't1'])
    for folder in ('images', 'masks'):
        for png in (tmp_path / folder).glob('*.png'):
            cv2.imwrite(str(png.with_suffix('.tif')), cv2.imread(str(png), cv2.IMREAD_UNCHANGED))
            png.unlink()
    command = [sys.executable, 'tools/dataset_converters/check_dataset.py', str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    default = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert default.returncode == 1 and 'no images in' in default.stdout
    tiff = subprocess.run(command + ['--img-suffix', '.tif', '--seg-suffix', '.tif'],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert tiff.returncode == 0, tiff.stdout + tiff.stderr
    assert 'TIFF L 2' in tiff.stdout and 'targets: 2 in all' in tiff.stdout


def test_a_name_listed_twice_is_an_error(tmp_path, capsys):
    """It was only a warning (exit 0) while training counted the image twice."""
    write_generic_set(tmp_path, ['a', 'b'])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'train.txt').write_text('a\nb\n')
    (tmp_path / 'splits' / 'test.txt').write_text('a\nb\nb\n')
    assert check_dataset.main([str(tmp_path)]) == 1
    output = capsys.readouterr().out
    assert 'test.txt: b: listed 2 times in the split file' in output
