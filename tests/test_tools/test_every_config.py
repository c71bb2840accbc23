"""Every shipped config trains one epoch and validates with the stock runner.

The tiny data is written in the layout each config's dataset expects (its own
folders, suffixes and split files), so the benchmark dataset classes and their
published layouts are exercised, not only the generic one. Models are shrunk
and crops reduced to 64 px so a full-width network is not run on the CPU.
"""
import copy
from pathlib import Path

import cv2
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import DATASETS

from .conftest import REPO_ROOT, load_tool
from tiny_configs import set_train_crop, shrink_model

make_sample = load_tool('tools/misc/make_synthetic_dataset.py').make_sample

pytestmark = pytest.mark.slow

CONFIGS = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / 'configs').glob('*/*.py')
                 if p.parent.name != '_base_')
TRAIN_SIZE = 64
# Validation images of odd sizes: the test path must score at native size.
VAL_SHAPES = [(45, 71), (64, 64)]
CROP = 64
# A joint test set scored per data set (sirst3.py) tells them apart by name.
GROUPED_VAL_NAMES = ['Misc_1', '000001', 'XDU1']
GROUPED_VAL_SHAPES = [(45, 71), (64, 64), (50, 40)]


def write_split(dataset, shapes, seed: int, names=None) -> None:
    """Write synthetic images and masks where ``dataset`` (lazily built) looks."""
    img_dir = Path(dataset.data_prefix['img_path'])
    mask_dir = Path(dataset.data_prefix['seg_map_path'])
    img_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    img_suffix = dataset.img_suffix if isinstance(dataset.img_suffix, str) else '.png'
    mask_suffix = (dataset.seg_map_suffix if isinstance(dataset.seg_map_suffix, str)
                   else '.png')
    names = names or [f'img{seed}_{index}' for index in range(len(shapes))]
    for index, ((height, width), name) in enumerate(zip(shapes, names)):
        image, mask, _ = make_sample(seed, index, max(height, width))
        cv2.imwrite(str(img_dir / f'{name}{img_suffix}'), image[:height, :width])
        # Masks as distributed: 0/255.
        cv2.imwrite(str(mask_dir / f'{name}{mask_suffix}'),
                    (mask[:height, :width] > 0).astype('uint8') * 255)
    if dataset.ann_file:
        split = Path(dataset.ann_file)
        split.parent.mkdir(parents=True, exist_ok=True)
        with open(split, 'a') as handle:
            handle.write('\n'.join(names) + '\n')


@pytest.mark.parametrize('config_path', CONFIGS)
def test_config_trains_one_epoch_and_validates(config_path, tmp_path):
    cfg = Config.fromfile(REPO_ROOT / config_path)
    assert cfg.custom_imports == dict(imports=['mmseg_serank'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmseg'
    assert cfg.default_hooks.checkpoint.save_best == 'IRSTD/IoU'
    init_default_scope('mmseg')
    data_root = tmp_path / 'data'
    grouped = bool(cfg.val_evaluator.get('dataset_groups'))
    val_shapes, val_names = ((GROUPED_VAL_SHAPES, GROUPED_VAL_NAMES) if grouped
                             else (VAL_SHAPES, None))
    for loader, shapes, seed, names in (
            (cfg.train_dataloader, [(TRAIN_SIZE, TRAIN_SIZE)] * 5, 1, None),
            (cfg.val_dataloader, val_shapes, 2, val_names)):
        dataset_cfg = copy.deepcopy(loader.dataset)
        dataset_cfg.update(data_root=str(data_root), lazy_init=True)
        write_split(DATASETS.build(dataset_cfg), shapes, seed, names)
        loader.dataset.data_root = str(data_root)
        loader.num_workers = 0
        loader.persistent_workers = False
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_dataloader.batch_size = 2
    set_train_crop(cfg.train_dataloader.dataset.pipeline, CROP)
    shrink_model(cfg.model)
    if cfg.train_cfg.type == 'IterBasedTrainLoop':
        cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = 2
    else:
        cfg.train_cfg.max_epochs = cfg.train_cfg.val_interval = 1
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = str(tmp_path / 'work')

    runner = Runner.from_cfg(cfg)
    runner.train()

    # 5 images, batch 2: the last batch of one image is dropped (a one-image
    # batch stops DeepLabV3+'s image-pool BN, as SIRST's 341 images at batch 4 did).
    assert runner.iter == 2
    iou = runner.message_hub.get_scalar('val/IRSTD/IoU').current()
    assert 0.0 <= iou <= 100.0
    for group in cfg.val_evaluator.get('dataset_groups', {}):
        # Each data set of a joint test set is scored (NaN IoU: no target pixel predicted).
        assert runner.message_hub.get_scalar(f'val/IRSTD/{group}/IoU') is not None
    assert list(Path(cfg.work_dir).glob('best_IRSTD_IoU_*.pth'))
