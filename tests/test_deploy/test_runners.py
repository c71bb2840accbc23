"""The backend runners refuse what they cannot run, with errors naming the problem."""
import re
import sys

import numpy as np
import onnx
import pytest
import torch

from mmseg_serank.deploy import DeployedModelError, OnnxRuntimeRunner, OpenVINORunner
from mmseg_serank.deploy.export import FORMAT, FORMAT_KEY

RUNNERS = (OnnxRuntimeRunner, OpenVINORunner)


def save_onnx(module: torch.nn.Module, sample: torch.Tensor, path, mark: bool) -> str:
    """``module`` exported under the names our files use, with or without our metadata."""
    torch.onnx.export(module, (sample, ), str(path), dynamo=False, input_names=['image'],
                      output_names=['probability'])
    if mark:
        proto = onnx.load(str(path))
        entry = proto.metadata_props.add()
        entry.key, entry.value = FORMAT_KEY, FORMAT
        onnx.save(proto, str(path))
    return str(path)


class ChannelsLast(torch.nn.Module):
    """An N x H x W x 3 model, the layout of many image pipelines."""

    def forward(self, image):
        return image.mean(dim=3, keepdim=True).permute(0, 3, 1, 2).sigmoid()


@pytest.mark.parametrize('runner', RUNNERS)
def test_onnx_file_of_another_model_is_refused(runner, tmp_path):
    path = save_onnx(torch.nn.Conv2d(3, 1, 1), torch.rand(1, 3, 8, 8),
                     tmp_path / 'other.onnx', mark=False)
    with pytest.raises(DeployedModelError, match='not written by tools/deployment/export_onnx.py'):
        runner(path)


@pytest.mark.parametrize('runner', RUNNERS)
def test_onnx_file_with_another_input_layout_is_refused(runner, tmp_path):
    path = save_onnx(ChannelsLast(), torch.rand(1, 8, 8, 3), tmp_path / 'nhwc.onnx', mark=True)
    with pytest.raises(DeployedModelError, match=r"nhwc.onnx .*inputs .*N x 3 x H x W"):
        runner(path)


@pytest.mark.parametrize('runner', RUNNERS)
def test_a_file_that_is_not_a_model_is_refused(runner, tmp_path):
    path = tmp_path / 'broken.onnx'
    path.write_bytes(b'not a model')
    with pytest.raises(DeployedModelError, match='broken.onnx'):
        runner(str(path))


@pytest.mark.parametrize('runner', RUNNERS)
def test_images_with_the_wrong_channel_count_are_refused(runner, exported_onnx):
    run = runner(str(exported_onnx))
    for shape in [(1, 1, 32, 32), (1, 4, 32, 32), (32, 32, 3)]:
        with pytest.raises(DeployedModelError,
                           match=r'N x 3 x H x W.*' + re.escape(str(shape))):
            run(np.zeros(shape, np.float32))
    assert run(np.zeros((1, 3, 5, 7), np.uint8)).shape == (1, 1, 5, 7)


@pytest.mark.parametrize('runner, module', [(OnnxRuntimeRunner, 'onnxruntime'),
                                            (OpenVINORunner, 'openvino')])
def test_missing_backend_package_names_the_extra(runner, module, exported_onnx, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=rf'{module}.*pip install -e \.\[deploy\]'):
        runner(str(exported_onnx))


def test_openvino_ir_runs_in_float32_and_refuses_float16_weights(exported_onnx, tmp_path):
    """An IR converted with compress_to_fp16=False equals the .onnx; the default
    (float16 weights) moved probabilities by up to 0.3 and is refused."""
    import openvino as ov
    model = ov.Core().read_model(str(exported_onnx))
    full, half = tmp_path / 'model.xml', tmp_path / 'model_fp16.xml'
    ov.save_model(model, str(full), compress_to_fp16=False)
    ov.save_model(model, str(half))
    image = np.random.default_rng(0).uniform(0, 255, (1, 3, 40, 56)).astype(np.float32)
    expected = OnnxRuntimeRunner(str(exported_onnx))(image)
    assert np.abs(OpenVINORunner(str(full))(image) - expected).max() <= 1e-4
    with pytest.raises(DeployedModelError, match='model_fp16.xml has float16 weights'):
        OpenVINORunner(str(half))


@pytest.mark.parametrize('runner', RUNNERS)
def test_logits_are_those_of_the_probability(runner, exported_onnx):
    run = runner(str(exported_onnx))
    image = np.random.default_rng(1).uniform(0, 255, (2, 3, 37, 45)).astype(np.float32)
    logits = run.logits(image)
    assert logits.shape == (2, 1, 37, 45)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits.astype(np.float64))), run(image),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize('runner', RUNNERS)
def test_a_file_of_the_earlier_format_asks_for_a_new_export(runner, exported_onnx, tmp_path):
    """Format 1 files had no logit output, which tiling needs."""
    proto = onnx.load(str(exported_onnx))
    proto.graph.output.pop()
    for entry in proto.metadata_props:
        if entry.key == FORMAT_KEY:
            entry.value = 'serankdet-probability/1'
    old = tmp_path / 'old.onnx'
    onnx.save(proto, str(old))
    with pytest.raises(DeployedModelError, match=r'old.onnx was written by an earlier .*'
                       'export the checkpoint again'):
        runner(str(old))
