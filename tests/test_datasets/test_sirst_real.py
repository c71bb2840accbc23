"""The real SIRST copy through the project's SIRST config (skipped when absent)."""
import numpy as np
from mmengine.config import Config
from mmseg.registry import DATASETS
from PIL import Image

from mmseg_serank.datasets.ir_image_io import read_binary_mask, read_ir_image

from .conftest import REPO_ROOT

SIRST_CONFIG = REPO_ROOT / 'configs' / '_base_' / 'datasets' / 'sirst.py'


def _build(loader_cfg, root):
    dataset_cfg = dict(loader_cfg.dataset)
    dataset_cfg['data_root'] = str(root)
    return DATASETS.build(dataset_cfg)


def test_both_splits_load_through_the_config_pipelines(sirst_root):
    config = Config.fromfile(SIRST_CONFIG)
    train_set = _build(config.train_dataloader, sirst_root)
    test_set = _build(config.test_dataloader, sirst_root)
    assert (len(train_set), len(test_set)) == (341, 86)
    crop = tuple(config.crop_size)
    for index in range(len(train_set)):
        sample = train_set[index]
        assert tuple(sample['inputs'].shape) == (3, *crop)
        assert set(sample['data_samples'].gt_sem_seg.data.unique().tolist()) <= {0, 1}
    for index in range(len(test_set)):
        sample = test_set[index]
        meta = sample['data_samples'].metainfo
        # Native resolution: the input is the image as stored.
        assert tuple(sample['inputs'].shape[1:]) == meta['ori_shape']
        gt = sample['data_samples'].gt_sem_seg.data
        assert tuple(gt.shape[1:]) == meta['ori_shape']
        assert gt.sum() > 0  # every SIRST image has a target


def test_every_image_decodes_and_every_mask_keeps_its_target_pixels(sirst_root):
    modes = set()
    for image_path in sorted((sirst_root / 'images').glob('*.png')):
        with Image.open(image_path) as file:
            modes.add(file.mode)
        image = read_ir_image(image_path)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        mask_path = sirst_root / 'masks' / f'{image_path.stem}_pixels0.png'
        mask = read_binary_mask(mask_path)
        stored = np.asarray(Image.open(mask_path))
        assert set(np.unique(mask).tolist()) == {0, 1}
        assert int(mask.sum()) == int((stored == 255).sum())
    assert modes == {'L', 'RGB', 'RGBA', 'P'}
