"""The synthetic IRSTD generator: layout, determinism, masks and targets."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import REPO_ROOT, load_tool

GENERATOR = REPO_ROOT / 'tools' / 'misc' / 'make_synthetic_dataset.py'
generate_dataset = load_tool('tools/misc/make_synthetic_dataset.py').generate_dataset

SIZE = 48


def read_gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f'{path} is not a readable PNG'
    return image


def split_names(root: Path, split: str):
    return (root / 'splits' / f'{split}.txt').read_text().split()


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthetic')
    counts = generate_dataset(root, num_train=12, num_test=6, size=SIZE, seed=5)
    return root, counts


def test_layout_splits_and_image_format(dataset):
    root, counts = dataset
    train, test = split_names(root, 'train'), split_names(root, 'test')
    assert len(train) == 12 and len(test) == 6 and len(counts) == 18
    assert not set(train) & set(test)
    for name in train + test:
        image = read_gray(root / 'images' / f'{name}.png')
        mask = read_gray(root / 'masks' / f'{name}.png')
        assert image.shape == mask.shape == (SIZE, SIZE)
        assert image.dtype == mask.dtype == np.uint8
    assert sorted(p.stem for p in (root / 'images').iterdir()) == sorted(train + test)


def test_masks_are_binary_with_one_blob_per_target(dataset):
    root, counts = dataset
    names = split_names(root, 'train') + split_names(root, 'test')
    for name, count in zip(names, counts):
        mask = read_gray(root / 'masks' / f'{name}.png')
        assert set(np.unique(mask)) <= {0, 255}
        num_blobs, labels = cv2.connectedComponents((mask > 0).astype(np.uint8),
                                                    connectivity=8)
        assert num_blobs - 1 == count and 0 <= count <= 4
        for blob in range(1, num_blobs):
            rows, cols = np.nonzero(labels == blob)
            extent = max(rows.ptp(), cols.ptp()) + 1
            assert 1 <= extent <= 9, f'{name}: target of {extent} px'


def test_targets_are_brighter_than_their_surroundings(dataset):
    root, counts = dataset
    names = split_names(root, 'train') + split_names(root, 'test')
    assert sum(counts) > 0
    for name in names:
        image = read_gray(root / 'images' / f'{name}.png').astype(np.float32)
        mask = read_gray(root / 'masks' / f'{name}.png') > 0
        num_blobs, labels = cv2.connectedComponents(mask.astype(np.uint8),
                                                    connectivity=8)
        for blob in range(1, num_blobs):
            target = labels == blob
            ring = cv2.dilate(target.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
            ring &= ~mask
            assert image[target].max() > np.median(image[ring]), name


def test_same_seed_same_data_and_other_seed_differs(dataset, tmp_path):
    root, _ = dataset
    generate_dataset(tmp_path / 'again', num_train=12, num_test=6, size=SIZE, seed=5)
    generate_dataset(tmp_path / 'other', num_train=12, num_test=6, size=SIZE, seed=6)
    name = split_names(root, 'train')[0]
    for folder in ('images', 'masks'):
        original = read_gray(root / folder / f'{name}.png')
        again = read_gray(tmp_path / 'again' / folder / f'{name}.png')
        assert np.array_equal(original, again)
    assert not np.array_equal(read_gray(root / 'images' / f'{name}.png'),
                              read_gray(tmp_path / 'other' / 'images' / f'{name}.png'))


def test_command_line_writes_the_requested_split_sizes(tmp_path):
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(tmp_path),
         '--num-train', '3', '--num-test', '2', '--size', '32', '--seed', '1'],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(split_names(tmp_path, 'train')) == 3
    assert len(split_names(tmp_path, 'test')) == 2
    assert read_gray(tmp_path / 'images' / 'synth_00000.png').shape == (32, 32)


def test_rejects_images_too_small_for_the_targets(tmp_path):
    with pytest.raises(ValueError, match='too small'):
        generate_dataset(tmp_path, num_train=1, num_test=1, size=16)


def test_a_real_data_set_folder_is_refused_and_its_own_folder_regenerated(tmp_path):
    real = tmp_path / 'real'
    (real / 'splits').mkdir(parents=True)
    (real / 'splits' / 'train.txt').write_text('Misc_1\nMisc_2\n')
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(real), '--num-train', '2', '--num-test', '1',
         '--size', '32'], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f'error: {real} holds files this generator did not write' in result.stderr
    assert (real / 'splits' / 'train.txt').read_text() == 'Misc_1\nMisc_2\n'
    assert sorted(path.name for path in real.rglob('*')) == ['splits', 'train.txt']

    own = tmp_path / 'own'
    generate_dataset(own, num_train=2, num_test=1, size=32, seed=3)
    generate_dataset(own, num_train=3, num_test=1, size=32, seed=3)  # its own: replaced
    assert len(split_names(own, 'train')) == 3
    assert '"num_train": 3' in (own / 'synthetic.json').read_text()
