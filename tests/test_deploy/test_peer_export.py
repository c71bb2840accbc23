"""The IRSTD peer networks export to one ONNX file for any size and score like
their checkpoints.

Each network gets the seeded authors' weights of its parity fixture (converted
by its converter), so the exported graph is checked on weights whose outputs
are not near-constant. No deploy form is needed: the trained form is exported.
"""
import json
import sys

import numpy as np
import pytest
import torch
from test_models.test_peer_parity import authors_state, load_fixture
from test_tools.conftest import run_tool

from mmseg_serank.checkpoint import get_peer, peer_names, repo_config
from mmseg_serank.checkpoint.parity import build_ours
from mmseg_serank.deploy import build_runner
from mmseg_serank.deploy.export import (
    ProbabilityModel,
    TorchRunner,
    check_sizes_images,
    load_segmentor,
    max_differences,
    write_verified_onnx,
)

# Sizes that are not multiples of 16 or 32, and a batch of two.
PEER_CHECK_SIZES = ((1, 64, 96), (2, 45, 71))


def converted_checkpoint(name: str, folder) -> str:
    peer = get_peer(name)
    model = build_ours(peer)
    model.load_state_dict(peer.convert(authors_state(load_fixture(name))), strict=True)
    path = folder / f'{name}.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.mark.parametrize('name', peer_names())
def test_peer_exports_one_file_that_onnxruntime_and_openvino_run_at_any_size(name,
                                                                           tmp_path):
    config = repo_config(get_peer(name).config)
    model, exported_form = load_segmentor(config, converted_checkpoint(name, tmp_path))
    assert model is exported_form  # no deploy form: exported as trained
    wrapped = ProbabilityModel(exported_form).eval()
    out = tmp_path / f'{name}.onnx'
    results = write_verified_onnx(wrapped, str(out), sizes=PEER_CHECK_SIZES)
    assert set(results) == {'1x64x96', '2x45x71'}
    for result in results.values():  # logits relative to max(1, max|logit|)
        assert result['forced_error'] <= 1e-4 and result['flip_stage'] is None
        assert result['difference'] <= 1e-3
    # The raw-pixel graph (grey conversion and normalisation inside) against the
    # PyTorch model at sizes it was not checked at, on both backends.
    images = check_sizes_images([(1, 33, 50)], seed=3)
    for backend in ('onnxruntime', 'openvino'):
        differences = max_differences(TorchRunner(wrapped), build_runner(backend, str(out)),
                                      images)
        assert differences['1x33x50'] <= 1e-3, (backend, differences)


@pytest.mark.parametrize('name', ['rdian', 'dnanet', 'uiunet', 'sctransnet'])
def test_exported_peer_scores_like_its_checkpoint(name, tiny_synthetic_root, tmp_path):
    """The real commands: export_onnx.py, then test_deployed.py against tools/test.py
    at the default threshold, for one-channel (RDIAN, SCTransNet) and
    three-channel (DNANet, UIU-Net) networks."""
    config = repo_config(get_peer(name).config)
    checkpoint = converted_checkpoint(name, tmp_path)
    out = tmp_path / f'{name}.onnx'
    exported = run_tool([sys.executable, 'tools/deployment/export_onnx.py', config, checkpoint,
                         out])
    assert 'logits (relative)' in exported.stdout
    data = [f'{loader}.dataset.{key}={value}'
            for loader in ('test_dataloader', 'val_dataloader')
            for key, value in (('data_root', tiny_synthetic_root),
                               ('type', 'IRSTDDataset'), ('ann_file', 'splits/test.txt'),
                               ('data_prefix.img_path', 'images'),
                               ('data_prefix.seg_map_path', 'masks'))]
    data += ['test_dataloader.num_workers=0', 'val_dataloader.num_workers=0']
    run_tool([sys.executable, 'tools/test.py', config, checkpoint, '--work-dir',
              tmp_path / 'test', '--cfg-options', *data])
    expected = json.loads(next((tmp_path / 'test' / 'test_results').glob('*_metrics.json'))
                          .read_text())['metrics']
    scores = tmp_path / 'deployed.json'
    run_tool([sys.executable, 'tools/deployment/test_deployed.py', config, out, '--out', scores,
              '--cfg-options', *data])
    actual = json.loads(scores.read_text())['metrics']
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, rel=1e-3, abs=1e-9), key
    assert np.isfinite(actual['IRSTD/IoU'])
