"""tools/infer.py's targets.csv is IRSTDMetric's components: the same count,
numbering, areas and centroids at the same threshold and connectivity,
including a connectivity of 4 configured in the evaluator."""
import csv
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_serank.apis import inference_pipeline, init_irstd_model
from mmseg_serank.datasets import irstd_dataset_meta
from mmseg_serank.evaluation.functional import detect_targets

from .conftest import DEMO_CONFIG, REPO_ROOT, TINY_WIDTH


def tiny_config() -> Config:
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.backbone.base_channels = TINY_WIDTH
    return cfg


@pytest.fixture(scope='module')
def random_model(tmp_path_factory):
    """A tiny randomly initialised SeRankDet saved as a checkpoint (no training)."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny_config().model)
    path = tmp_path_factory.mktemp('random') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=irstd_dataset_meta())), path)
    return path


def model_probability(checkpoint: Path, image: Path) -> np.ndarray:
    """The model's target probability for ``image``, through the inference pipeline."""
    model = init_irstd_model(tiny_config(), str(checkpoint), device='cpu')
    sample = inference_pipeline(model.cfg.test_dataloader.dataset.pipeline)(
        dict(img_path=str(image)))
    with torch.no_grad():
        result, = model.test_step(pseudo_collate([sample]))
    return result.seg_logits.data[0].numpy()


def run_infer(monkeypatch, capsys, *args) -> int:
    """tools/infer.py's main() in this process (a subprocess would import for seconds)."""
    spec = importlib.util.spec_from_file_location('infer_tool', REPO_ROOT / 'tools/infer.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', ['tools/infer.py', *map(str, args)])
    try:
        code = module.main()
    except SystemExit as stop:
        code = stop.code
    assert code == 0, capsys.readouterr().err
    return code


def metric_components(mask: np.ndarray, connectivity: int):
    """The predicted components IRSTDMetric matches (detect_targets, as in score_image)."""
    return detect_targets(mask, np.zeros_like(mask), connectivity).predictions


def read_rows(out_dir: Path) -> list:
    with open(out_dir / 'targets.csv', newline='') as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope='module')
def scene(random_model, tmp_path_factory):
    """(input folder, threshold, mask at it) where the random model's mask has
    several components, some joined only diagonally (connectivity 4 and 8 differ)."""
    in_dir = tmp_path_factory.mktemp('scene') / 'in'
    in_dir.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(in_dir / 'frame.png'), rng.integers(0, 255, (48, 64)).astype(np.uint8))
    probability = model_probability(random_model, in_dir / 'frame.png')
    for quantile in np.linspace(0.5, 0.95, 10):
        threshold = round(float(np.quantile(probability, quantile)), 4)
        mask = probability > threshold
        if len(metric_components(mask, 4)) > len(metric_components(mask, 8)) > 2:
            return in_dir, threshold, mask
    pytest.fail('no threshold gives components that 4- and 8-connectivity split apart')


def infer_at(random_model, scene, out_dir, monkeypatch, capsys, connectivity: int) -> list:
    """targets.csv rows of tools/infer.py at the scene's threshold, with
    ``connectivity`` set in the evaluator (the metric's one place)."""
    in_dir, threshold, mask = scene
    run_infer(monkeypatch, capsys, DEMO_CONFIG, random_model, in_dir, '--out', out_dir,
              '--threshold', threshold, '--cfg-options',
              f'model.backbone.base_channels={TINY_WIDTH}',
              f'test_evaluator.connectivity={connectivity}')
    saved = cv2.imread(str(out_dir / 'frame_mask.png'), cv2.IMREAD_UNCHANGED) > 0
    np.testing.assert_array_equal(saved, mask)
    return read_rows(out_dir)


@pytest.mark.parametrize('connectivity', [8, 4])
def test_targets_csv_is_the_metrics_components(random_model, scene, tmp_path, monkeypatch,
                                              capsys, connectivity):
    """Must show: the same count, labelling order, areas and centroids as the
    metric at the same threshold and connectivity (infer.py numbered targets in
    OpenCV's order, always 8-connected)."""
    rows = infer_at(random_model, scene, tmp_path, monkeypatch, capsys, connectivity)
    components = metric_components(scene[2], connectivity)
    assert len(rows) == len(components)
    assert [int(row['target']) for row in rows] == list(range(1, len(components) + 1))
    assert [int(row['area']) for row in rows] == components.areas.tolist()
    np.testing.assert_array_equal(
        [(float(row['centroid_y']), float(row['centroid_x'])) for row in rows],
        np.round(components.centroids, 2))


def test_infer_counts_targets_with_the_evaluators_connectivity_4(random_model, scene,
                                                                 tmp_path, monkeypatch,
                                                                 capsys):
    """test_evaluator.connectivity=4 splits diagonal neighbours in targets.csv as
    the metric does (infer.py ignored it and counted 8-connected targets)."""
    rows = infer_at(random_model, scene, tmp_path, monkeypatch, capsys, 4)
    assert len(rows) == len(metric_components(scene[2], 4)) > len(
        metric_components(scene[2], 8))
