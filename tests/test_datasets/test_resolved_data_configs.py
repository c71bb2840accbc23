"""Every shipped config resolves to the same data settings as the snapshot in data/.

The snapshot (``data/resolved_data_configs.json``) was written from the configs as
they were before the dataset base configs shared one IRSTD base; a change to
paths, sizes, pipelines, loaders or evaluators shows here as a difference. After a
deliberate change, rewrite it with ``python tests/test_datasets/test_resolved_data_configs.py``
and review the diff.
"""
import json
import sys
from pathlib import Path
from typing import Any, Dict

import pytest
from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / 'data' / 'resolved_data_configs.json'
DATA_KEYS = ('dataset_type', 'data_root', 'data_prefix', 'base_size', 'crop_size',
             'train_pipeline', 'test_pipeline', 'test_pipeline_resize_to_base',
             'tta_pipeline', 'train_dataloader', 'val_dataloader', 'test_dataloader',
             'val_evaluator', 'test_evaluator')
CONFIGS = sorted(
    [path.relative_to(REPO_ROOT).as_posix()
     for path in (REPO_ROOT / 'configs').glob('*/*.py') if path.parent.name != '_base_']
    + [path.relative_to(REPO_ROOT).as_posix()
       for path in (REPO_ROOT / 'configs' / '_base_' / 'datasets').glob('*.py')
       if path.stem != 'irstd'])


def _plain(value: Any) -> Any:
    """JSON-safe form that keeps tuples apart from lists."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return {'__tuple__': [_plain(item) for item in value]}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def resolved_data(config_path: str) -> Dict[str, Any]:
    """The data settings of one config, as the runner sees them."""
    config = Config.fromfile(REPO_ROOT / config_path)
    return {key: _plain(config.to_dict()[key]) if key in config else '<absent>'
            for key in DATA_KEYS}


def test_snapshot_covers_every_config():
    assert sorted(json.loads(SNAPSHOT.read_text())) == CONFIGS


@pytest.mark.parametrize('config_path', CONFIGS)
def test_config_resolves_to_the_snapshot(config_path):
    expected = json.loads(SNAPSHOT.read_text())[config_path]
    actual = resolved_data(config_path)
    for key in DATA_KEYS:
        assert actual[key] == expected[key], f'{config_path}: {key} changed'


if __name__ == '__main__':
    snapshot = {path: resolved_data(path) for path in CONFIGS}
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + '\n')
    print(f'wrote {SNAPSHOT} ({len(snapshot)} configs)', file=sys.stderr)


@pytest.mark.parametrize('config_path', CONFIGS)
def test_dumped_config_reloads_to_the_same_settings(config_path, tmp_path):
    """The work-dir copy (``Config.dump``) holds the built pipelines, not the import."""
    config = Config.fromfile(REPO_ROOT / config_path)
    config.dump(tmp_path / 'dumped.py')
    assert 'mmseg_serank.datasets.pipelines' not in (tmp_path / 'dumped.py').read_text()
    assert Config.fromfile(tmp_path / 'dumped.py').to_dict() == config.to_dict()


def test_a_user_config_trains_a_dataset_at_another_size(tmp_path):
    """The way the shared base documents: call the builder with the new sizes."""
    user_config = tmp_path / 'sirst_256.py'
    user_config.write_text(
        f"_base_ = {str(REPO_ROOT / 'configs/_base_/datasets/sirst.py')!r}\n"
        'from mmseg_serank.datasets.pipelines import irstd_train_pipeline  # noqa: E402\n'
        'train_dataloader = dict(dataset=dict(pipeline=irstd_train_pipeline(256, (256, 256))))\n')
    config = Config.fromfile(user_config)
    sizes = {t['type']: t for t in config.train_dataloader.dataset.pipeline}
    assert sizes['RandomRescaleLongSide']['base_size'] == 256
    assert tuple(sizes['PadToMinSize']['size']) == (256, 256)
    assert tuple(sizes['RandomCrop']['crop_size']) == (256, 256)
    assert config.train_dataloader.dataset.ann_file == 'idx_427/trainval.txt'
    assert config.train_dataloader.batch_size == 4
