"""tools/deployment/quantize.py: INT8 quantisation behind an accuracy gate.

The tiny exported model has random weights, so its scores say nothing; these
tests check the mechanics (calibration, both rows, the gate, the file the
runners take, nothing written on refusal or bad input). The accuracy of INT8
on a trained model is measured in docs/en/user_guides/deployment.md.
"""
import importlib.util
import re
import sys
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
from mmengine.config import Config
from test_tools.conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_run_options

from mmseg_serank.deploy import build_runner
from mmseg_serank.deploy.quantize import ATTENTION_PATTERN, FIRST_BLOCK_PATTERN, QUANTIZATION_KEY
from mmseg_serank.deploy.runners import _ov_metadata

pytest.importorskip('nncf')
ov = pytest.importorskip('openvino')
GENEROUS = ('--max-iou-drop', '100', '--max-niou-drop', '100', '--max-pd-drop', '100',
            '--max-fa-rise', '1e9')


def quantize_main(capsys, monkeypatch, *args) -> Tuple[int, str, str]:
    """tools/deployment/quantize.py's main() in this process: exit status, stdout, stderr."""
    spec = importlib.util.spec_from_file_location('quantize_tool',
                                                  REPO_ROOT / 'tools/deployment/quantize.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, 'argv', ['tools/deployment/quantize.py', *map(str, args)])
    capsys.readouterr()
    try:
        code = module.main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope='module')
def quantized(exported_onnx, tiny_synthetic_root, tmp_path_factory) -> Tuple[Path, str]:
    """(INT8 .xml, stdout) of the tool on the tiny export, limits wide open
    (random weights score at random)."""
    out = tmp_path_factory.mktemp('int8') / 'tiny_int8.xml'
    result = run_tool([sys.executable, 'tools/deployment/quantize.py', DEMO_CONFIG, exported_onnx,
                       tiny_synthetic_root, out, '--num-samples', 4, *GENEROUS,
                       '--cfg-options', *tiny_run_options(tiny_synthetic_root)])
    return out, result.stdout


def test_the_int8_file_is_written_with_both_rows_and_taken_by_the_runners(
        quantized, tiny_synthetic_root, tmp_path):
    out, stdout = quantized
    assert 'calibrated on 4 images' in stdout
    assert '| FP32 (OpenVINO) |' in stdout and '| INT8 (OpenVINO) |' in stdout
    assert f'wrote {out}' in stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ['tiny_int8.bin', 'tiny_int8.xml']
    # the identity of the export survives: the runner checks it against the config
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict({'model.backbone.base_channels': 4})
    runner = build_runner('openvino', str(out), cfg=cfg)
    assert runner(np.zeros((1, 3, 40, 56), np.float32)).shape == (1, 1, 40, 56)
    graph = ov.Core().read_model(str(out))
    assert any(op.get_type_name() == 'FakeQuantize' for op in graph.get_ops())
    # Nothing inside the attentions or the first block reads rounded values
    # (each pattern names nodes of this graph).
    kept = [re.compile(pattern) for pattern in (ATTENTION_PATTERN, FIRST_BLOCK_PATTERN)]
    names = [op.get_friendly_name() for op in graph.get_ops()]
    assert all(any(pattern.match(name) for name in names) for pattern in kept)
    assert not [target.get_node().get_friendly_name() for op in graph.get_ops()
                if op.get_type_name() == 'FakeQuantize' for output in op.outputs()
                for target in output.get_target_inputs()
                if any(p.match(target.get_node().get_friendly_name()) for p in kept)]
    assert '"calibration_images": 4' in _ov_metadata(graph)[QUANTIZATION_KEY]
    # tools/infer.py runs it like any exported file
    images = tiny_synthetic_root / 'images'
    run_tool([sys.executable, 'tools/infer.py', DEMO_CONFIG, out, images, '--out',
              tmp_path / 'masks', '--backend', 'openvino', '--cfg-options',
              'model.backbone.base_channels=4'])
    assert len(list((tmp_path / 'masks').rglob('*_mask.png'))) == len(list(images.iterdir()))


def test_an_impossible_limit_writes_nothing(exported_onnx, tiny_synthetic_root, tmp_path,
                                            capsys, monkeypatch):
    """INT8 cannot be 1000 points better than FP32: refused, an earlier file kept."""
    out = tmp_path / 'int8.xml'
    out.write_text('earlier')
    code, stdout, stderr = quantize_main(
        capsys, monkeypatch, DEMO_CONFIG, exported_onnx, tiny_synthetic_root, out,
        '--num-samples', 2, '--max-iou-drop', '-1000',
        '--cfg-options', *tiny_run_options(tiny_synthetic_root))
    assert code == 1
    assert '| FP32 (OpenVINO) |' in stdout and '| INT8 (OpenVINO) |' in stdout
    assert f'error: not writing {out}: IoU' in stderr and 'limit -1000' in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['int8.xml']
    assert out.read_text() == 'earlier'


def bad_inputs(root: Path, onnx: Path, checkpoint: Path, int8: Path, folder: Path) -> list:
    """(model, calibration data, out, expected error) of each bad input."""
    out = folder / 'int8.xml'
    return [
        (folder / 'none.onnx', root, out, f'no model file at {folder / "none.onnx"}'),
        (checkpoint, root, out, f'{checkpoint}: OpenVINO cannot load it'),
        (int8, root, out, f'{int8} is quantised already'),
        (onnx, folder / 'missing', out, f'calibration data {folder / "missing"} does not exist'),
        (onnx, root / 'splits' / 'test.txt', out, 'the calibration images are the test split'),
        (onnx, root, folder / 'int8.onnx', 'OUT must be an OpenVINO IR .xml'),
        (onnx, root, folder / 'absent' / 'int8.xml', f'the folder {folder / "absent"} does not'),
        (onnx, root, folder / 'dir.xml', f'{folder / "dir.xml"} is a folder'),
    ]


def test_bad_input_is_named_in_one_line_and_nothing_is_written(
        exported_onnx, tiny_checkpoint, quantized, tiny_synthetic_root, tmp_path, capsys,
        monkeypatch):
    (tmp_path / 'dir.xml').mkdir()
    for model, calib, out, expected in bad_inputs(tiny_synthetic_root, exported_onnx,
                                                  tiny_checkpoint, quantized[0], tmp_path):
        code, _, stderr = quantize_main(
            capsys, monkeypatch, DEMO_CONFIG, model, calib, out,
            '--cfg-options', *tiny_run_options(tiny_synthetic_root))
        assert code == 1, expected
        lines = stderr.strip().splitlines()
        assert lines[-1].startswith('error: ') and expected in lines[-1], (expected, stderr)
        assert 'Traceback' not in stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ['dir.xml'], expected
