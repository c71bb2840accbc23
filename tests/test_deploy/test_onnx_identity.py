"""An exported .onnx names the model it came from (issue 21, item 7): the tools
refuse a file of another model than CONFIG builds and name both."""
import json
import os
import subprocess
import sys

import onnx
import pytest
from test_tools.conftest import DEMO_CONFIG, REPO_ROOT, tiny_model_options

from mmseg_serank.deploy.export import FORMAT, FORMAT_KEY

from .conftest import WIDTH

pytestmark = pytest.mark.slow

IDENTITY_KEYS = ('mmseg_serank.model', 'mmseg_serank.network_in_channels', 'mmseg_serank.grey',
                 'mmseg_serank.mean', 'mmseg_serank.std', 'mmseg_serank.flip_channels',
                 'mmseg_serank.threshold', 'mmseg_serank.config_digest')


def run(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1',
               PYTHONDONTWRITEBYTECODE='1')
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_deployed(model, data_root, *options, backend='onnxruntime'):
    return run('tools/deployment/test_deployed.py', DEMO_CONFIG, model, '--backend', backend,
               '--cfg-options', *tiny_model_options(WIDTH),
               f'test_dataloader.dataset.data_root={data_root}',
               'test_dataloader.num_workers=0', *options)


test_deployed.__test__ = False


def metadata(path) -> dict:
    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}


def test_the_export_records_the_model_identity(exported_onnx):
    found = metadata(exported_onnx)
    assert found[FORMAT_KEY] == FORMAT
    assert set(IDENTITY_KEYS) <= set(found)
    identity = {key: json.loads(found[key]) for key in IDENTITY_KEYS}
    assert 'SeRankDet' in identity['mmseg_serank.model']
    assert identity['mmseg_serank.grey'] is False
    assert identity['mmseg_serank.network_in_channels'] == 3
    assert len(identity['mmseg_serank.mean']) == len(identity['mmseg_serank.std']) == 3
    assert isinstance(identity['mmseg_serank.flip_channels'], bool)
    assert 0 <= identity['mmseg_serank.threshold'] < 1
    assert len(identity['mmseg_serank.config_digest']) >= 16


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_a_file_of_another_width_is_refused_naming_both(backend, exported_onnx,
                                                        tiny_synthetic_root):
    result = test_deployed(exported_onnx, tiny_synthetic_root,
                           'model.backbone.base_channels=8', backend=backend)
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr and 'IoU' not in result.stdout
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith('error: ') and str(exported_onnx) in line, result.stderr[-3000:]
    assert str(DEMO_CONFIG) in line and 'different model' in line, line


def test_other_preprocessing_is_refused_in_infer(exported_onnx, tiny_synthetic_root, tmp_path):
    result = run('tools/infer.py', DEMO_CONFIG, exported_onnx, tiny_synthetic_root / 'images',
                 '--out', tmp_path / 'out', '--backend', 'onnxruntime', '--cfg-options',
                 *tiny_model_options(WIDTH), 'model.data_preprocessor.mean=[1,2,3]')
    assert result.returncode == 1, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith('error: ') and 'mean' in line and str(exported_onnx) in line, \
        result.stderr[-3000:]
    assert not (tmp_path / 'out').exists()


def test_a_file_without_identity_runs_with_a_warning(exported_onnx, tiny_synthetic_root,
                                                     tmp_path):
    proto = onnx.load(str(exported_onnx))
    kept = [(e.key, e.value) for e in proto.metadata_props if e.key == FORMAT_KEY]
    del proto.metadata_props[:]
    for key, value in kept:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    older = tmp_path / 'older.onnx'
    onnx.save(proto, str(older))
    result = test_deployed(older, tiny_synthetic_root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'IoU' in result.stdout
    assert 'warning' in result.stderr and str(older) in result.stderr
    # Settings that are not the network (slide windows, threshold) do not refuse it.
    result = test_deployed(exported_onnx, tiny_synthetic_root, 'model.test_cfg.mode=slide',
                           'model.test_cfg.crop_size=(48,48)', 'model.test_cfg.stride=(32,32)',
                           'model.decode_head.threshold=0.3')
    assert result.returncode == 0, result.stderr[-3000:]
