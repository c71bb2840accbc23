"""tools/deploy/export_onnx.py and tools/deploy/test_deployed.py on a trained checkpoint."""
import json
import sys

import pytest

from .conftest import DEMO_CONFIG, run_tool, tiny_model_options, tiny_run_options

pytestmark = pytest.mark.slow


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_exported_model_scores_like_the_checkpoint(backend, trained_run, tiny_synthetic_root,
                                                   tmp_path):
    """The exported file, run by each backend over the config's test set, gets the
    scores tools/test.py gives the PyTorch checkpoint (default threshold).

    After two epochs most probabilities sit near the 0.5 threshold, where the
    1e-6 float differences of another runtime flip a few pixels, so the scores
    are compared to 0.1 % (one pixel of the 4 x 64 x 64 set moves IoU by 0.007 %)."""
    work_dir, _ = trained_run
    onnx_file = tmp_path / 'model.onnx'
    export = run_tool([sys.executable, 'tools/deploy/export_onnx.py', DEMO_CONFIG,
                       work_dir / 'epoch_2.pth', onnx_file, '--cfg-options',
                       *tiny_model_options()])
    assert f'wrote {onnx_file}' in export.stdout
    run_tool([sys.executable, 'tools/test.py', DEMO_CONFIG, work_dir / 'epoch_2.pth',
              '--work-dir', tmp_path / 'test', '--cfg-options',
              *tiny_run_options(tiny_synthetic_root)])
    expected = json.loads(next((tmp_path / 'test' / 'test_results').glob('*_metrics.json'))
                          .read_text())['metrics']
    scores = tmp_path / 'deployed.json'
    result = run_tool([sys.executable, 'tools/deploy/test_deployed.py', DEMO_CONFIG, onnx_file,
                       '--backend', backend, '--out', scores, '--cfg-options',
                       *tiny_run_options(tiny_synthetic_root)])
    assert 'IoU (%)' in result.stdout
    actual = json.loads(scores.read_text())['metrics']
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-3, abs=1e-9), key
