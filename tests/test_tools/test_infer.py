"""tools/infer.py as a user runs it: one inference path, one threshold, robust I/O."""
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmseg_serank.apis import (
    IRSTDInferencer,
    inference_irstd_model,
    init_irstd_model,
    irstd_dataset_meta,
    probability_and_mask,
)
from mmseg_serank.checkpoint import load_checkpoint_safely

from .conftest import (
    DEMO_CONFIG,
    REPO_ROOT,
    TINY_WIDTH,
    run_tool,
    tiny_model_options,
    tiny_run_options,
)

pytestmark = pytest.mark.slow


def infer(checkpoint, *args, check: bool = True) -> subprocess.CompletedProcess:
    """tools/infer.py on the tiny demo model with the given inputs and options."""
    command = [sys.executable, 'tools/infer.py', DEMO_CONFIG, checkpoint, *args,
               '--cfg-options', *tiny_model_options()]
    if check:
        return run_tool(command)
    return subprocess.run([str(a) for a in command], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))


def infer_main(capsys, monkeypatch, checkpoint, *args) -> Tuple[int, str]:
    """tools/infer.py's main() with these arguments, in this process (for the
    checks that refuse a run before any image is read): exit status, stderr."""
    spec = importlib.util.spec_from_file_location('infer_tool', REPO_ROOT / 'tools/infer.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', ['tools/infer.py', str(DEMO_CONFIG), str(checkpoint),
                                      *map(str, args), '--cfg-options',
                                      *tiny_model_options()])
    capsys.readouterr()
    try:
        code = module.main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
        if not isinstance(stop.code, int):
            print(stop.code, file=sys.stderr)
    return code, capsys.readouterr().err


def tiny_demo_config() -> Config:
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(dict(arg.split('=', 1) for arg in tiny_model_options()[:2]))
    widths = [TINY_WIDTH * 2**i for i in range(5)]
    cfg.model.decode_head.in_channels = widths
    cfg.model.decode_head.channels = TINY_WIDTH
    cfg.model.backbone.base_channels = TINY_WIDTH
    return cfg


def write_frame(path: Path, shape=(40, 56), seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 90, shape, dtype=np.uint8)
    image[10:13, 20:23] = 250
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


@pytest.fixture(scope='module')
def checkpoint(trained_run) -> Path:
    return trained_run[0] / 'epoch_2.pth'


def test_infer_inference_model_and_inferencer_agree_at_the_default_threshold(
        checkpoint, tiny_synthetic_root, tmp_path):
    """Must show: the same probabilities and masks from all three paths."""
    images = sorted((tiny_synthetic_root / 'images').glob('*.png'))[:4]
    out_dir = tmp_path / 'out'
    infer(checkpoint, *images, '--out', out_dir)
    cfg = tiny_demo_config()
    model = init_irstd_model(cfg, str(checkpoint), device='cpu')
    inferencer = IRSTDInferencer(model=cfg, weights=str(checkpoint), device='cpu')
    from_inferencer = inferencer([str(p) for p in images], return_datasamples=True)
    some_target, some_background = False, False
    for image, other in zip(images, from_inferencer):
        probability, mask = probability_and_mask(inference_irstd_model(model, str(image)))
        saved_probability = cv2.imread(str(out_dir / f'{image.stem}_prob.png'),
                                       cv2.IMREAD_UNCHANGED)
        saved_mask = cv2.imread(str(out_dir / f'{image.stem}_mask.png'),
                                cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(saved_probability,
                                      np.round(probability * 255).astype(np.uint8))
        np.testing.assert_array_equal(saved_mask > 0, mask)
        other_probability, other_mask = probability_and_mask(other)
        np.testing.assert_array_equal(other_probability, probability)
        np.testing.assert_array_equal(other_mask, mask)
        some_target |= bool(mask.any())
        some_background |= not bool(mask.all())
    assert some_background, 'a mask of only targets: probabilities thresholded wrongly'


def test_threshold_overrides_the_heads(checkpoint, tmp_path):
    write_frame(tmp_path / 'in' / 'a.png')
    out_dir = tmp_path / 'out'
    infer(checkpoint, tmp_path / 'in', '--out', out_dir, '--threshold', '0.0')
    assert json.loads((out_dir / 'targets.json').read_text())['threshold'] == 0.0
    assert cv2.imread(str(out_dir / 'a_mask.png'), cv2.IMREAD_UNCHANGED).all()


@pytest.mark.parametrize('option', [
    ['--threshold', '1.5'], ['--threshold', '-1'], ['--threshold', 'nan'],
    ['--batch-size', '0'], ['--cfg-options', 'model.decode_head.threshold=1.5']])
def test_out_of_range_threshold_and_batch_size_are_refused(checkpoint, tmp_path, option,
                                                           capsys, monkeypatch):
    write_frame(tmp_path / 'in' / 'a.png')
    code, stderr = infer_main(capsys, monkeypatch, checkpoint, tmp_path / 'in', '--out',
                              tmp_path / 'out', *option)
    assert code != 0
    assert ('must be a probability in [0, 1)' in stderr
            or '--batch-size: must be >= 1' in stderr), stderr
    assert not (tmp_path / 'out' / 'a_mask.png').exists()


def test_unreadable_images_are_reported_and_the_others_written(checkpoint, tmp_path):
    write_frame(tmp_path / 'in' / 'good.png')
    (tmp_path / 'in' / 'broken.png').write_bytes(b'not a png')
    write_frame(tmp_path / 'in' / 'later.png', seed=1)
    result = infer(checkpoint, tmp_path / 'in', '--out', tmp_path / 'out', check=False)
    assert result.returncode == 1
    assert 'broken.png' in result.stderr and 'unreadable' in result.stderr
    for name in ('good', 'later'):
        assert (tmp_path / 'out' / f'{name}_mask.png').exists()
    summary = json.loads((tmp_path / 'out' / 'targets.json').read_text())
    assert summary['num_images'] == 2
    assert [Path(u['path']).name for u in summary['unreadable']] == ['broken.png']


def test_a_failed_write_is_an_error_naming_the_file(checkpoint, tmp_path):
    long_name = 'f' * 246 + '.png'  # a valid input name; NAME_overlay.png is too long
    write_frame(tmp_path / 'in' / long_name)
    result = infer(checkpoint, tmp_path / 'in' / long_name, '--out', tmp_path / 'out',
                   check=False)
    assert result.returncode != 0
    assert 'cannot write' in result.stderr and 'f' * 246 in result.stderr
    (tmp_path / 'file').write_text('not a folder')
    write_frame(tmp_path / 'in2' / 'a.png')
    result = infer(checkpoint, tmp_path / 'in2', '--out', tmp_path / 'file' / 'sub',
                   check=False)
    assert result.returncode != 0 and 'cannot write' in result.stderr


def test_same_named_inputs_stay_apart(checkpoint, tmp_path):
    write_frame(tmp_path / 'day' / 'frame.png', seed=1)
    write_frame(tmp_path / 'night' / 'frame.png', seed=2)
    write_frame(tmp_path / 'night' / 'frame.bmp', seed=3)
    write_frame(tmp_path / 'other' / 'frame_1.png', seed=4)  # a numbered name is no escape
    out_dir = tmp_path / 'out'
    infer(checkpoint, tmp_path / 'day', tmp_path / 'night', tmp_path / 'other',
          '--out', out_dir)
    for name in ('day/frame', 'night/frame.png', 'night/frame.bmp', 'other/frame_1'):
        assert (out_dir / f'{name}_prob.png').exists(), name
    assert not cv2.imread(str(out_dir / 'day/frame_prob.png')).tobytes() == \
        cv2.imread(str(out_dir / 'night/frame.png_prob.png')).tobytes()
    summary = json.loads((out_dir / 'targets.json').read_text())
    assert sorted(i['image'] for i in summary['images']) == [
        'day/frame', 'night/frame.bmp', 'night/frame.png', 'other/frame_1']
    with open(out_dir / 'targets.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert len({(row['image'], row['target']) for row in rows}) == len(rows)


def test_out_inside_an_input_folder_is_refused(checkpoint, tmp_path, capsys, monkeypatch):
    write_frame(tmp_path / 'in' / 'a.png')
    user_mask = tmp_path / 'in' / 'a_mask.png'
    user_mask.write_bytes(b'the user\'s own mask')
    for out_dir in (tmp_path / 'in', tmp_path / 'in' / 'results'):
        code, stderr = infer_main(capsys, monkeypatch, checkpoint,
                                  tmp_path / 'in' / 'a.png', '--out', out_dir)
        assert code != 0
        assert 'input folder' in stderr
    assert user_mask.read_bytes() == b'the user\'s own mask'
    assert not (tmp_path / 'in' / 'results').exists()


def test_large_image_is_segmented_in_tiles(checkpoint, tmp_path):
    write_frame(tmp_path / 'in' / 'big.png', shape=(1500, 2000))
    write_frame(tmp_path / 'in' / 'small.png')
    out_dir = tmp_path / 'out'
    infer(checkpoint, tmp_path / 'in', '--out', out_dir)
    summary = json.loads((out_dir / 'targets.json').read_text())
    tiled = {image['image']: image['tiled'] for image in summary['images']}
    assert tiled == {'big': True, 'small': False}
    assert cv2.imread(str(out_dir / 'big_mask.png')).shape[:2] == (1500, 2000)


def test_test_tool_refuses_a_metric_threshold_naming_the_heads(
        checkpoint, tiny_synthetic_root, tmp_path):
    command = [sys.executable, 'tools/test.py', DEMO_CONFIG, checkpoint,
               '--work-dir', tmp_path, '--cfg-options',
               *tiny_run_options(tiny_synthetic_root)]
    result = subprocess.run([str(a) for a in command + ['test_evaluator.threshold=0.3']],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert result.returncode != 0
    assert ('test_evaluator takes no threshold of its own: threshold is set once, as '
            'model.decode_head.threshold' in result.stderr)
    assert not list(tmp_path.rglob('*_metrics.json'))
    # The one setting: the head's threshold, which the metric then scores.
    run_tool(command + ['model.decode_head.threshold=0.3'])
    assert len(list(tmp_path.rglob('*_metrics.json'))) == 1


def test_trained_and_reparameterised_checkpoints_carry_the_irstd_meta(checkpoint, tmp_path):
    trained = load_checkpoint_safely(str(checkpoint), map_location='cpu')
    assert trained['meta']['dataset_meta']['classes'] == ('background', 'target')
    assert trained['meta']['dataset_meta']['palette'] == irstd_dataset_meta()['palette']
    deployed = tmp_path / 'deploy.pth'
    run_tool([sys.executable, 'tools/deployment/reparameterize.py', DEMO_CONFIG, checkpoint,
              deployed, '--shape', 32, 32, '--cfg-options', *tiny_model_options()])
    meta = torch.load(deployed, weights_only=True)['meta']
    assert meta['dataset_meta'] == irstd_dataset_meta()
