"""The real SIRST copy through the project's SIRST config (skipped when absent)."""
import random

import numpy as np
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS
from PIL import Image

from mmseg_serank.datasets.ir_image_io import read_binary_mask, read_ir_image

from .conftest import REPO_ROOT
from tiny_configs import set_serankdet_width, set_train_crop

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


def test_training_step_on_real_sirst_learns_from_target_pixels(sirst_root):
    """Stock mmseg would map the 255 target pixels to ignore_index; here the
    loss is driven by them, and a few optimiser steps on the real batch lower it."""
    config = Config.fromfile(SIRST_CONFIG)
    model_cfg = Config.fromfile(REPO_ROOT / 'configs' / '_base_' / 'models' / 'serankdet.py')
    set_serankdet_width(model_cfg.model, 4)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg.model)
    set_train_crop(config.train_pipeline, 128)  # keeps the CPU steps short
    train_set = _build(config.train_dataloader, sirst_root)
    random.seed(0)  # the crops and flips of mmcv's transforms
    np.random.seed(0)
    # Random 128 px crops often miss the few target pixels: keep crops with some.
    samples = []
    for index in range(len(train_set)):
        sample = train_set[index]
        if sample['data_samples'].gt_sem_seg.data.sum() > 0:
            samples.append(sample)
        if len(samples) == 4:
            break
    batch = dict(inputs=[s['inputs'] for s in samples],
                 data_samples=[s['data_samples'] for s in samples])
    assert sum(int(s.gt_sem_seg.data.sum()) for s in batch['data_samples']) > 0

    # A map that predicts exactly the loaded targets scores a loss near 0; with
    # the targets erased (what ignore_index=255 would amount to) the same map
    # is penalised fully. So the loss is driven by the target pixels.
    head = model.decode_head
    labels = torch.stack([s['data_samples'].gt_sem_seg.data for s in samples]).float()
    oracle_logits = (labels * 2 - 1) * 20.0
    with torch.no_grad():
        oracle = float(head.loss_by_feat(oracle_logits, batch['data_samples'])
                       ['loss_softiou'])
        erased_samples = [s['data_samples'].clone() for s in samples]
        for sample in erased_samples:
            sample.gt_sem_seg.data.zero_()
        erased = float(head.loss_by_feat(oracle_logits, erased_samples)['loss_softiou'])
    assert oracle < 0.01 and erased > 0.9

    def total_loss() -> torch.Tensor:
        processed = model.data_preprocessor(batch, True)
        losses = model.loss(processed['inputs'], processed['data_samples'])
        return sum(value for key, value in losses.items() if 'loss' in key)

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    before = total_loss().item()
    for _ in range(3):
        optimizer.zero_grad()
        total_loss().backward()
        optimizer.step()
    assert total_loss().item() < before
