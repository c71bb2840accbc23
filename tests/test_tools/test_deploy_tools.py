"""tools/deployment/export_onnx.py and tools/deployment/test_deployed.py on a trained checkpoint."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_model_options, tiny_run_options

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def exported(trained_run, tmp_path_factory):
    """(checkpoint, .onnx file) of the shared training run, exported by the real tool."""
    checkpoint = trained_run[0] / 'epoch_2.pth'
    onnx_file = tmp_path_factory.mktemp('export') / 'model.onnx'
    export = run_tool([sys.executable, 'tools/deployment/export_onnx.py', DEMO_CONFIG,
                       checkpoint, onnx_file, '--cfg-options', *tiny_model_options()])
    assert f'wrote {onnx_file}' in export.stdout
    return checkpoint, onnx_file


SLIDE_OPTIONS = ('model.test_cfg.mode=slide', 'model.test_cfg.crop_size=(48,48)',
                 'model.test_cfg.stride=(32,32)')


@pytest.mark.parametrize('backend, test_cfg', [('onnxruntime', ()), ('openvino', ()),
                                               ('onnxruntime', SLIDE_OPTIONS)])
def test_exported_model_scores_like_the_checkpoint(backend, test_cfg, exported,
                                                   tiny_synthetic_root, tmp_path):
    """The exported file, run by each backend over the config's test set, gets the
    scores tools/test.py gives the PyTorch checkpoint (default threshold), also
    for a config in slide mode (the old tool scored whole images there).

    After two epochs most probabilities sit near the 0.5 threshold, where the
    1e-6 float differences of another runtime flip a few pixels, so the scores
    are compared to 0.1 % (one pixel of the 4 x 64 x 64 set moves IoU by 0.007 %)."""
    checkpoint, onnx_file = exported
    run_tool([sys.executable, 'tools/test.py', DEMO_CONFIG, checkpoint,
              '--work-dir', tmp_path / 'test', '--cfg-options',
              *tiny_run_options(tiny_synthetic_root), *test_cfg])
    expected = json.loads(next((tmp_path / 'test' / 'test_results').glob('*_metrics.json'))
                          .read_text())['metrics']
    scores = tmp_path / 'deployed.json'
    result = run_tool([sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG, onnx_file,
                       '--backend', backend, '--out', scores, '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root), *test_cfg])
    assert 'IoU (%)' in result.stdout
    actual = json.loads(scores.read_text())['metrics']
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-3, abs=1e-9), key


def test_scores_for_a_missing_folder_are_refused_before_scoring(exported, tiny_synthetic_root,
                                                                tmp_path):
    """The old tool scored the whole set, then died in a FileNotFoundError traceback."""
    out = tmp_path / 'missing' / 'scores.json'
    result = subprocess.run(
        [sys.executable, 'tools/deployment/test_deployed.py', DEMO_CONFIG, str(exported[1]),
         '--out', str(out), '--cfg-options', *tiny_run_options(tiny_synthetic_root)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    assert result.returncode == 1
    assert (f'error: cannot write {out}: the folder {out.parent} does not exist'
            in result.stderr), result.stderr[-3000:]
    assert 'Traceback' not in result.stderr and 'IoU' not in result.stdout


def test_infer_gives_the_same_outputs_with_pytorch_and_onnxruntime(exported, tmp_path):
    """tools/infer.py --backend onnxruntime on real SIRST test images (odd sizes, grey,
    RGB, palette files) writes what the PyTorch backend writes."""
    sirst = Path(os.environ.get('IRSTD_SIRST_ROOT', REPO_ROOT.parent / 'shared/data/sirst'))
    if not (sirst / 'idx_427' / 'test.txt').exists():
        pytest.skip(f'the real SIRST data set is not at {sirst}')
    names = (sirst / 'idx_427' / 'test.txt').read_text().split()[:6]
    images = [sirst / 'images' / f'{name}.png' for name in names]
    assert_same_infer_outputs(*exported, images, tmp_path)


def assert_same_infer_outputs(checkpoint, onnx_file, images, tmp_path, *options,
                              backends=('onnxruntime', )):
    """tools/infer.py with each backend writes what the PyTorch backend writes.

    A mask pixel may differ only where both probabilities sit at the threshold
    (saved as 127 or 128 of 255), since the runtimes differ by ~1e-6; where no
    mask pixel differs, targets.csv is identical. Returns targets.json per backend."""
    outputs = {}
    for backend in ('pytorch', ) + tuple(backends):
        outputs[backend] = tmp_path / backend
        run_tool([sys.executable, 'tools/infer.py', DEMO_CONFIG,
                  checkpoint if backend == 'pytorch' else onnx_file, *images,
                  '--out', outputs[backend], '--backend', backend, *options,
                  '--cfg-options', *tiny_model_options()])
    for backend in backends:
        masks_differ = False
        for image in images:
            name = Path(image).stem
            reference = cv2.imread(str(outputs['pytorch'] / f'{name}_mask.png'), 0)
            deployed = cv2.imread(str(outputs[backend] / f'{name}_mask.png'), 0)
            probability = cv2.imread(str(outputs['pytorch'] / f'{name}_prob.png'), 0)
            deployed_probability = cv2.imread(str(outputs[backend] / f'{name}_prob.png'), 0)
            assert reference.shape == deployed.shape == probability.shape
            assert np.abs(probability.astype(int) - deployed_probability).max() <= 1
            differ = reference != deployed
            assert np.isin(probability[differ], (127, 128)).all(), (backend, name)
            masks_differ |= bool(differ.any())
        if not masks_differ:
            assert ((outputs['pytorch'] / 'targets.csv').read_text()
                    == (outputs[backend] / 'targets.csv').read_text()), backend
    return {backend: json.loads((out / 'targets.json').read_text())
            for backend, out in outputs.items()}


def test_large_images_are_tiled_alike_on_every_backend(exported, tmp_path):
    """Images above --max-side: the exported model slides over the PyTorch
    backend's windows and averages logits, so the outputs agree; the old code
    ran exported models on the whole image (other outputs, unbounded memory)."""
    images = []
    for name, shape, seed in (('wide', (90, 200), 1), ('tall', (173, 61), 2),
                              ('small', (40, 56), 3)):
        rng = np.random.default_rng(seed)
        image = rng.integers(0, 90, shape, dtype=np.uint8)
        image[30:33, 40:43] = 250
        images.append(tmp_path / 'in' / f'{name}.png')
        images[-1].parent.mkdir(exist_ok=True)
        cv2.imwrite(str(images[-1]), image)
    summaries = assert_same_infer_outputs(*exported, images, tmp_path, '--max-side', '80',
                                          '--tile', '48', backends=('onnxruntime', 'openvino'))
    for backend, summary in summaries.items():
        tiled = {image['image']: image['tiled'] for image in summary['images']}
        assert tiled == {'wide': True, 'tall': True, 'small': False}, backend
