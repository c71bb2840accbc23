"""The documented inference APIs on every config of the project, paths and arrays.

``init_irstd_model`` / ``inference_irstd_model`` and ``IRSTDInferencer`` (the
plugin's own, see docs/en/user_guides/inference.md), and mmseg's
``inference_model`` where it serves the configs unchanged (image files); the
checkpoints carry no ``dataset_meta`` (as converted or old files), so the
IRSTD fallback is tested.
"""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg_serank.apis import (
    IRSTDInferencer,
    inference_irstd_model,
    init_irstd_model,
    irstd_dataset_meta,
    probability_and_mask,
)
from mmseg_serank.datasets import IRSTDDataset

# isort: split
from mmseg.apis import inference_model
from mmseg.registry import INFERENCERS, MODELS, TRANSFORMS
from mmseg.visualization import SegLocalVisualizer

from tiny_configs import shrink_model

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / 'configs').glob('*/*.py')
                 if p.parent.name != '_base_')
SERANKDET_DEMO = 'configs/serankdet/serankdet-lite8_1xb8-45e_synthetic-96x96.py'


def tiny_config(config_path: str) -> Config:
    cfg = Config.fromfile(REPO_ROOT / config_path)
    shrink_model(cfg.model)
    return cfg


def save_random_checkpoint(cfg: Config, path: Path) -> Path:
    """Weights of a freshly built model, saved without ``dataset_meta``."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def write_image(path: Path, shape=(45, 71), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 90, shape, dtype=np.uint8)
    image[20:23, 30:33] = 250
    cv2.imwrite(str(path), image)
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def assert_same_result(first, second) -> None:
    p1, m1 = probability_and_mask(first)
    p2, m2 = probability_and_mask(second)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(m1, m2)


@pytest.mark.parametrize('config_path', CONFIGS)
def test_documented_inference_apis_work_on_paths_and_arrays(config_path, tmp_path):
    cfg = tiny_config(config_path)
    checkpoint = save_random_checkpoint(cfg, tmp_path / 'model.pth')
    array = write_image(tmp_path / 'frame.png')
    model = init_irstd_model(cfg, str(checkpoint), device='cpu')
    assert model.dataset_meta == irstd_dataset_meta()

    from_path = inference_irstd_model(model, str(tmp_path / 'frame.png'))
    from_array = inference_irstd_model(model, array)
    again_from_path = inference_irstd_model(model, tmp_path / 'frame.png')
    assert from_path.seg_logits.data.shape[-2:] == (45, 71)
    assert_same_result(from_path, from_array)
    assert_same_result(from_path, again_from_path)  # model.cfg left unchanged
    # mmseg's own inference_model serves image files of the configs unchanged.
    assert_same_result(from_path, inference_model(model, str(tmp_path / 'frame.png')))

    inferencer = IRSTDInferencer(model=cfg, weights=str(checkpoint), device='cpu')
    predictions = inferencer([str(tmp_path / 'frame.png'), array], return_datasamples=True)
    for prediction in predictions:
        assert_same_result(from_path, prediction)
        assert 'ir_image' not in prediction  # kept for drawing only
    assert inferencer.model.dataset_meta == irstd_dataset_meta()


def test_grey_16_bit_array_is_loaded_like_its_file(tmp_path):
    cfg = tiny_config(SERANKDET_DEMO)
    model = init_irstd_model(cfg, str(save_random_checkpoint(cfg, tmp_path / 'm.pth')),
                             device='cpu')
    frame = np.random.default_rng(1).integers(1000, 1400, (40, 52), dtype=np.uint16)
    frame[10:13, 20:23] = 9000
    cv2.imwrite(str(tmp_path / 'frame16.png'), frame)
    from_path = inference_irstd_model(model, str(tmp_path / 'frame16.png'))
    assert_same_result(from_path, inference_irstd_model(model, frame))
    assert_same_result(from_path, inference_irstd_model(model, [frame])[0])


def test_a_list_of_images_of_different_sizes_is_inferred_one_by_one(tmp_path):
    """mmseg's inference_model stacks a list into one batch and fails on sizes
    that differ; the plugin's function takes them one at a time."""
    cfg = tiny_config(SERANKDET_DEMO)
    model = init_irstd_model(cfg, str(save_random_checkpoint(cfg, tmp_path / 'm.pth')),
                             device='cpu')
    small = write_image(tmp_path / 'small.png', shape=(45, 71), seed=1)
    write_image(tmp_path / 'large.png', shape=(64, 50), seed=2)
    results = inference_irstd_model(model, [str(tmp_path / 'small.png'),
                                            str(tmp_path / 'large.png'), small])
    assert [r.seg_logits.data.shape[-2:] for r in results] == [(45, 71), (64, 50), (45, 71)]
    for result, path in zip(results, ('small.png', 'large.png')):
        assert_same_result(result, inference_irstd_model(model, str(tmp_path / path)))
    assert_same_result(results[0], results[2])


def test_inferencer_draws_a_float32_tiff_from_the_ir_loaders_image(tmp_path):
    """OpenCV's colour decoding (mmseg's drawing) gives None for a float TIFF,
    which the IR loader reads; the picture is drawn from the loader's image."""
    cfg = tiny_config(SERANKDET_DEMO)
    checkpoint = save_random_checkpoint(cfg, tmp_path / 'm.pth')
    frame = np.random.default_rng(3).random((40, 52), dtype=np.float32) * 100
    frame[10:13, 20:23] = 400
    assert cv2.imwrite(str(tmp_path / 'float32.tif'), frame)
    inferencer = IRSTDInferencer(model=cfg, weights=str(checkpoint), device='cpu')
    result = inferencer(str(tmp_path / 'float32.tif'), out_dir=str(tmp_path / 'vis'),
                        return_vis=True)
    picture = cv2.imread(str(tmp_path / 'vis' / 'vis' / 'float32.tif'))
    assert picture is not None
    assert result['visualization'].shape == picture.shape  # one input: one picture
    loaded = inference_irstd_model(init_irstd_model(cfg, str(checkpoint), device='cpu'),
                                   str(tmp_path / 'float32.tif'))
    np.testing.assert_array_equal(result['predictions'],  # one input: its mask
                                  loaded.pred_sem_seg.data[0].numpy())


def test_irstd_inferencer_is_registered_and_targets_are_drawn_visibly(tmp_path):
    assert INFERENCERS.get('IRSTDInferencer') is IRSTDInferencer
    cfg = tiny_config(SERANKDET_DEMO)
    cfg_path = tmp_path / 'config.py'
    cfg.dump(str(cfg_path))
    checkpoint = save_random_checkpoint(cfg, tmp_path / 'm.pth')
    write_image(tmp_path / 'frame.png')
    inferencer = IRSTDInferencer(model=str(cfg_path), weights=str(checkpoint), device='cpu')
    result = inferencer(str(tmp_path / 'frame.png'), out_dir=str(tmp_path / 'out'),
                        return_datasamples=True)
    assert (tmp_path / 'out' / 'vis' / 'frame.png').exists()
    assert inferencer.visualizer.dataset_meta == irstd_dataset_meta()

    # The stock visualiser (as show_result_pyplot uses it) with the model's meta.
    image = np.full((45, 71, 3), 60, np.uint8)
    drawing = SegLocalVisualizer(name='irstd_palette_check')
    drawing.dataset_meta = inferencer.model.dataset_meta
    drawn = drawing._draw_sem_seg(image, result.pred_sem_seg,
                                  **drawing.dataset_meta, with_labels=False)
    mask = result.pred_sem_seg.data[0].numpy() > 0
    assert mask.any() and not mask.all(), 'the random model predicts some targets'
    redness = drawn[..., 0].astype(int) - drawn[..., 1:].max(axis=-1)
    assert (redness[mask] > 150).all()  # targets bright red on a grey frame
    assert (redness[~mask] == 0).all()  # background keeps its grey


def test_ir_loaders_skip_missing_masks_and_take_arrays(tmp_path):
    init_default_scope('mmseg')
    annotations = TRANSFORMS.build(dict(type='LoadIRAnnotations'))
    binarize = TRANSFORMS.build(dict(type='BinarizeMask'))
    sample = dict(img_path='x.png', img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4))
    assert annotations(dict(sample)) == sample
    assert binarize(dict(sample)) == sample
    assert annotations(dict(sample, seg_map_path=None)) == dict(sample, seg_map_path=None)

    loader = TRANSFORMS.build(dict(type='LoadIRImageFromFile'))
    bgra = np.dstack([np.full((3, 5, 3), 7, np.uint8), np.full((3, 5), 255, np.uint8)])
    loaded = loader(dict(img=bgra))
    assert loaded['img'].shape == (3, 5, 3) and loaded['img_path'] is None
    assert loaded['ori_shape'] == (3, 5)
    with pytest.raises(KeyError, match='needs an img_path or an image array'):
        loader(dict())


def test_irstd_meta_is_the_dataset_metainfo():
    meta = irstd_dataset_meta()
    assert meta == dict(IRSTDDataset.METAINFO)
    meta['palette'][1][0] = 0  # a copy: callers cannot change the class attribute
    assert IRSTDDataset.METAINFO['palette'][1] == [255, 0, 0]
