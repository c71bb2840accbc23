"""One threshold setting, every consumer: ``--threshold`` and ``--cfg-options
model.decode_head.threshold=...`` change tools/infer.py's masks (PyTorch and
exported models) and tools/deployment/test_deployed.py's scores alike."""
import importlib.util
import json
import sys

import cv2
import numpy as np
import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, TINY_WIDTH, tiny_run_options
from .test_infer_targets import model_probability, random_model, run_infer  # noqa: F401


class PixelRunner:
    """Stands in for an exported model: the target probability is the pixel's
    brightness, so the expected mask at any threshold is known."""

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return (images[:, :1] / 255).astype(np.float32)


def fake_build_runner(backend, path, num_threads=0, cfg=None, warn=None) -> PixelRunner:
    return PixelRunner()


THRESHOLD = 0.3
# The same value set in the one place, two ways.
SETTINGS = dict(default=([], []), flag=(['--threshold', THRESHOLD], []),
                config=([], [f'model.decode_head.threshold={THRESHOLD}']))


@pytest.mark.parametrize('backend', ['pytorch', 'onnxruntime'])
def test_the_threshold_set_once_changes_the_masks_of_infer(backend, random_model,  # noqa: F811
                                                           tmp_path, monkeypatch, capsys):
    """Must show: both ways give the masks ``probability > threshold`` of the
    backend, unlike the config's default, and record the threshold."""
    monkeypatch.setattr('mmseg_serank.inference.segmenters.build_runner', fake_build_runner)
    image = np.random.default_rng(0).integers(0, 255, (48, 64)).astype(np.uint8)
    (tmp_path / 'in').mkdir()
    cv2.imwrite(str(tmp_path / 'in' / 'frame.png'), image)
    probability = (model_probability(random_model, tmp_path / 'in' / 'frame.png')
                   if backend == 'pytorch' else image / 255)
    masks = {}
    for how, (options, cfg_options) in SETTINGS.items():
        out_dir = tmp_path / how
        run_infer(monkeypatch, capsys, DEMO_CONFIG,
                  random_model if backend == 'pytorch' else tmp_path / 'model.onnx',
                  tmp_path / 'in', '--out', out_dir, '--backend', backend, *options,
                  '--cfg-options', f'model.backbone.base_channels={TINY_WIDTH}', *cfg_options)
        masks[how] = cv2.imread(str(out_dir / 'frame_mask.png'), cv2.IMREAD_UNCHANGED) > 0
        recorded = json.loads((out_dir / 'targets.json').read_text())['threshold']
        assert recorded == (0.5 if how == 'default' else THRESHOLD)
    np.testing.assert_array_equal(masks['flag'], probability > THRESHOLD)
    np.testing.assert_array_equal(masks['config'], masks['flag'])
    assert not np.array_equal(masks['default'], masks['flag'])


def test_the_threshold_set_once_changes_the_scores_of_test_deployed(tiny_synthetic_root,
                                                                    tmp_path, monkeypatch,
                                                                    capsys):
    """Must show: test_deployed.py scores the exported model's probability above
    the config's threshold, which --threshold and --cfg-options set alike."""
    spec = importlib.util.spec_from_file_location(
        'test_deployed_tool', REPO_ROOT / 'tools/deployment/test_deployed.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(tool, 'build_runner', fake_build_runner)
    scores = {}
    for how, (options, cfg_options) in SETTINGS.items():
        out = tmp_path / f'{how}.json'
        monkeypatch.setattr(sys, 'argv', [
            'test_deployed.py', str(DEMO_CONFIG), str(tmp_path / 'model.onnx'), '--out',
            str(out), *map(str, options), '--cfg-options',
            *tiny_run_options(tiny_synthetic_root), *cfg_options])
        assert tool.run() == 0, capsys.readouterr().err
        scores[how] = json.loads(out.read_text())['metrics']
    assert scores['flag'] == scores['config'] != scores['default']
