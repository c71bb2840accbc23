"""IRSTDTTAModel: flip test-time augmentation merged on probabilities."""
import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmseg.models.segmentors import SegTTAModel

from mmseg_serank.models.segmentors import IRSTDTTAModel

from .conftest import REPO_ROOT, build_segmentor, randomise_norms_and_gammas

SYNTHETIC_DATA_CONFIG = f'{REPO_ROOT}/configs/_base_/datasets/synthetic.py'


def tta_batch(tmp_path, height: int = 21, width: int = 34) -> dict:
    """One image through the configs' tta_pipeline (3 views), collated."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 80, (height, width), dtype=np.uint8)
    image[5:8, 20:23] = 250
    mask = np.zeros((height, width), np.uint8)
    mask[5:8, 20:23] = 255
    cv2.imwrite(str(tmp_path / 'scene.png'), image)
    cv2.imwrite(str(tmp_path / 'scene_mask.png'), mask)
    pipeline = Compose(Config.fromfile(SYNTHETIC_DATA_CONFIG).tta_pipeline)
    sample = pipeline(dict(img_path=str(tmp_path / 'scene.png'),
                           seg_map_path=str(tmp_path / 'scene_mask.png'),
                           reduce_zero_label=False, seg_fields=[]))
    assert len(sample['inputs']) == 3
    return pseudo_collate([sample])


def test_merged_map_is_the_mean_of_the_unflipped_view_probabilities(tmp_path):
    torch.manual_seed(0)
    segmentor = build_segmentor(base_channels=4)
    randomise_norms_and_gammas(segmentor)
    segmentor.eval()
    batch = tta_batch(tmp_path)
    with torch.no_grad():
        merged = IRSTDTTAModel(module=segmentor).test_step(batch)[0]
        image = segmentor.data_preprocessor(
            dict(inputs=batch['inputs'][0], data_samples=batch['data_samples'][0]),
            False)['inputs']
        size = tuple(image.shape[-2:])
        metas = [dict(img_shape=size, pad_shape=size, ori_shape=size)]

        def probability(x):
            return segmentor.encode_decode(x, metas).sigmoid()[0]

        expected = (probability(image) + probability(image.flip(3)).flip(2)
                    + probability(image.flip(2)).flip(1)) / 3
    assert merged.seg_logits.data.shape == (1, *size)
    assert torch.allclose(merged.seg_logits.data, expected, atol=1e-6)
    assert torch.equal(merged.pred_sem_seg.data,
                       (expected > segmentor.decode_head.threshold).long())
    assert merged.gt_sem_seg.data.sum() == 9  # the 3x3 target, unflipped
    assert merged.img_path.endswith('scene.png')


def test_stock_tta_model_marks_every_pixel_of_a_one_channel_head(tmp_path):
    """Why IRSTDTTAModel exists: mmseg applies the sigmoid a second time."""
    torch.manual_seed(0)
    segmentor = build_segmentor(base_channels=4)
    segmentor.eval()
    batch = tta_batch(tmp_path)
    with torch.no_grad():
        stock = SegTTAModel(module=segmentor).test_step(batch)[0]
        ours = IRSTDTTAModel(module=segmentor).test_step(batch)[0]
    assert bool(stock.pred_sem_seg.data.bool().all())
    assert not bool(ours.pred_sem_seg.data.bool().all())
