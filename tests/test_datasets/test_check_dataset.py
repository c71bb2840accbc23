"""tools/dataset_converters/check_dataset.py on the real SIRST and on broken sets."""
import importlib.util

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
    assert 'idx_427/test.txt: 86 names, 0 missing files' in output
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
