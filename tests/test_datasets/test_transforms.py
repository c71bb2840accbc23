"""IR loaders and the reference augmentation transforms."""
import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.fileio import BaseStorageBackend, register_backend
from PIL import Image, ImageFile, ImageFilter

from mmseg_serank.datasets.ir_image_io import IRImageReadError
from mmseg_serank.datasets.transforms import (
    BinarizeMask,
    LoadIRAnnotations,
    LoadIRImageFromFile,
    PadToMinSize,
    RandomGaussianBlur,
    RandomRescaleLongSide,
    ResizeToBase,
)


def _load(tmp_path, image: np.ndarray, mask: np.ndarray, **annotation_kwargs) -> dict:
    cv2.imwrite(str(tmp_path / 'img.png'), image)
    cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    results = dict(img_path=str(tmp_path / 'img.png'),
                   seg_map_path=str(tmp_path / 'mask.png'), seg_fields=[])
    results = LoadIRImageFromFile()(results)
    return LoadIRAnnotations(**annotation_kwargs)(results)


def test_loaders_give_bgr_image_and_zero_one_mask(tmp_path):
    mask = np.zeros((10, 12), np.uint8)
    mask[3:5, 4:7] = 255
    results = _load(tmp_path, np.full((10, 12), 90, np.uint8), mask)
    assert results['img'].shape == (10, 12, 3) and results['img'].dtype == np.uint8
    assert results['ori_shape'] == results['img_shape'] == (10, 12)
    assert results['gt_seg_map'].dtype == np.uint8
    assert np.array_equal(results['gt_seg_map'], (mask > 0).astype(np.uint8))
    assert results['seg_fields'] == ['gt_seg_map']


def test_mask_size_mismatch_names_both_files(tmp_path):
    with pytest.raises(ValueError) as error:
        _load(tmp_path, np.zeros((10, 12), np.uint8), np.zeros((10, 13), np.uint8))
    assert 'mask.png' in str(error.value) and 'img.png' in str(error.value)


def test_rescaled_mask_is_resized_or_refused(tmp_path):
    big_mask = np.zeros((20, 24), np.uint8)
    big_mask[8:12, 10:14] = 255
    results = _load(tmp_path, np.zeros((10, 12), np.uint8), big_mask)
    assert results['gt_seg_map'].shape == (10, 12)
    assert results['gt_seg_map'][4:6, 5:7].all() and results['gt_seg_map'].sum() == 4
    with pytest.raises(ValueError, match='mask.png'):
        _load(tmp_path, np.zeros((10, 12), np.uint8), big_mask,
              resize_scaled_masks=False)


def test_binarize_mask_after_stock_loader_keeps_targets_out_of_ignore(tmp_path):
    results = dict(gt_seg_map=np.array([[0, 255], [1, 0]], np.uint8), ori_shape=(2, 2))
    assert BinarizeMask()(results)['gt_seg_map'].tolist() == [[0, 1], [1, 0]]


def test_random_rescale_long_side_range_and_aspect(tmp_path):
    np.random.seed(0)
    transform = RandomRescaleLongSide(base_size=40, ratio_range=(0.5, 2.0))
    long_sides = set()
    for _ in range(60):
        results = dict(img=np.zeros((30, 15, 3), np.uint8),
                       gt_seg_map=np.ones((30, 15), np.uint8), seg_fields=['gt_seg_map'])
        results = transform(results)
        height, width = results['img'].shape[:2]
        assert 20 <= height <= 80
        assert width == int(15 * height / 30 + 0.5)
        assert results['gt_seg_map'].shape == (height, width)
        assert set(np.unique(results['gt_seg_map'])) == {1}  # nearest: no new values
        long_sides.add(height)
    assert len(long_sides) > 30


def test_pad_to_min_size_pads_with_background_bottom_right_only():
    results = dict(img=np.full((5, 12, 3), 9, np.uint8),
                   gt_seg_map=np.ones((5, 12), np.uint8), seg_fields=['gt_seg_map'])
    results = PadToMinSize(size=(8, 8))(results)
    assert results['img'].shape == (8, 12, 3) and results['img_shape'] == (8, 12)
    assert np.all(results['img'][5:] == 0) and np.all(results['img'][:5] == 9)
    assert np.all(results['gt_seg_map'][5:] == 0) and np.all(results['gt_seg_map'][:5] == 1)


def test_resize_to_base_scores_at_base_size():
    results = dict(img=np.zeros((30, 45, 3), np.uint8), ori_shape=(30, 45),
                   gt_seg_map=np.zeros((30, 45), np.uint8), seg_fields=['gt_seg_map'])
    results = ResizeToBase(base_size=16)(results)
    assert results['img'].shape == (16, 16, 3)
    assert results['gt_seg_map'].shape == results['ori_shape'] == (16, 16)


def test_random_gaussian_blur_matches_pillow_and_spares_mask():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    mask = (rng.random((16, 16)) > 0.5).astype(np.uint8)
    np.random.seed(3)
    results = RandomGaussianBlur(prob=1.0, radius_range=(0.0, 1.0))(
        dict(img=image.copy(), gt_seg_map=mask.copy()))
    np.random.seed(3)
    np.random.rand()
    radius = np.random.uniform(0.0, 1.0)
    expected = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)))
    assert np.array_equal(results['img'], expected)
    assert not np.array_equal(results['img'], image)
    assert np.array_equal(results['gt_seg_map'], mask)
    untouched = RandomGaussianBlur(prob=0.0)(dict(img=image.copy()))
    assert np.array_equal(untouched['img'], image)


def test_train_pipeline_yields_crop_sized_zero_one_samples(tmp_path):
    mask = np.zeros((30, 50), np.uint8)
    mask[10:13, 20:23] = 255
    cv2.imwrite(str(tmp_path / 'img.png'), np.full((30, 50), 120, np.uint8))
    cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    pipeline = Compose([
        dict(type='LoadIRImageFromFile'), dict(type='LoadIRAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomRescaleLongSide', base_size=32),
        dict(type='PadToMinSize', size=(32, 32)),
        dict(type='RandomCrop', crop_size=(32, 32)),
        dict(type='RandomGaussianBlur', prob=0.5),
        dict(type='PackSegInputs')])
    np.random.seed(0)
    for _ in range(10):
        sample = pipeline(dict(img_path=str(tmp_path / 'img.png'),
                               seg_map_path=str(tmp_path / 'mask.png'), seg_fields=[]))
        assert tuple(sample['inputs'].shape) == (3, 32, 32)
        assert set(sample['data_samples'].gt_sem_seg.data.unique().tolist()) <= {0, 1}


class _InMemoryBackend(BaseStorageBackend):
    """A storage that is not the local disk: files live in ``FILES``."""

    FILES: dict = {}

    def get(self, filepath) -> bytes:
        if str(filepath) not in self.FILES:
            raise FileNotFoundError(filepath)
        return self.FILES[str(filepath)]

    def get_text(self, filepath, encoding='utf-8') -> str:
        return self.get(filepath).decode(encoding)


def test_loaders_read_through_backend_args(tmp_path):
    """As mmseg's loaders do: ``backend_args`` selects the storage (not the disk here)."""
    register_backend('irstd_test_in_memory', _InMemoryBackend, force=True)
    image = np.random.default_rng(0).integers(0, 255, (10, 12), dtype=np.uint8)
    mask = np.zeros((10, 12), np.uint8)
    mask[4:6, 5:7] = 255
    for name, array in (('img.png', image), ('mask.png', mask)):
        cv2.imwrite(str(tmp_path / name), array)
        _InMemoryBackend.FILES[f'remote://bucket/{name}'] = (tmp_path / name).read_bytes()
    backend_args = dict(backend='irstd_test_in_memory')
    pipeline = Compose([dict(type='LoadIRImageFromFile', backend_args=backend_args),
                        dict(type='LoadIRAnnotations', backend_args=backend_args)])
    results = pipeline(dict(img_path='remote://bucket/img.png',
                            seg_map_path='remote://bucket/mask.png', seg_fields=[]))
    assert np.array_equal(results['img'], cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    assert np.array_equal(results['gt_seg_map'], mask // 255)
    with pytest.raises(IRImageReadError, match='remote://bucket/absent.png'):
        pipeline(dict(img_path='remote://bucket/absent.png', seg_map_path=None))


def test_an_image_file_is_decoded_once(tmp_path, monkeypatch):
    """It used to be decoded in full twice: by PIL (to catch truncation), then by OpenCV."""
    cv2.imwrite(str(tmp_path / 'img.png'), np.full((10, 12), 40, np.uint8))
    decodes = []
    cv2_decode, pil_load = cv2.imdecode, ImageFile.ImageFile.load

    def counting_cv2_decode(*args, **kwargs):
        decodes.append('opencv')
        return cv2_decode(*args, **kwargs)

    def counting_pil_load(self):
        if self.tile:  # pixels not decoded yet
            decodes.append('pil')
        return pil_load(self)

    monkeypatch.setattr(cv2, 'imdecode', counting_cv2_decode)
    monkeypatch.setattr(ImageFile.ImageFile, 'load', counting_pil_load)
    results = Compose([dict(type='LoadIRImageFromFile')])(dict(img_path=str(tmp_path / 'img.png')))
    assert results['img'].shape == (10, 12, 3)
    assert decodes == ['opencv']
