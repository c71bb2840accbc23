import math
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmseg_serank.datasets.irstd_dataset import IRSTDDataset

from .conftest import REPO_ROOT, build_segmentor

REFERENCE_KEYS = osp.join(osp.dirname(__file__), 'data', 'reference_keys.txt')
# The model the converted reference checkpoint must load into (reference widths).
MODEL_BASE_CHANNELS = 64


def load_converter():
    from mmseg_serank.checkpoint import serankdet
    return serankdet


def doc_position_table(size: int) -> torch.Tensor:
    table = torch.zeros(size, size)
    position = torch.arange(size).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def reference_state_dict(prefix: str = ''):
    state = {}
    with open(REFERENCE_KEYS) as handle:
        for line in handle:
            key, shape_text = line.split()
            shape = [] if shape_text == 'scalar' else [int(v) for v in shape_text.split('x')]
            if key.endswith('pos_enc.pos_enc'):
                state[prefix + key] = doc_position_table(shape[0])
            elif key.endswith('num_batches_tracked'):
                state[prefix + key] = torch.tensor(7)
            else:
                state[prefix + key] = torch.randn(shape)
    return state


def test_conversion_covers_every_reference_key_and_loads_strictly(tmp_path):
    converter = load_converter()
    source = reference_state_dict(prefix='module.')
    converted, dropped = converter.convert_state_dict(source)
    assert len(converted) + len(dropped) == len(source)
    assert len(dropped) == 5 and all(k.endswith('pos_enc.pos_enc') for k in dropped)
    model = build_segmentor(base_channels=MODEL_BASE_CHANNELS)
    model.load_state_dict(converted, strict=True)
    name = 'decode_head.max_channel1.fc2.weight'
    assert torch.equal(model.backbone.rank_attentions[0].key_proj.weight,
                       source['module.' + name])
    destination = tmp_path / 'converted.pth'
    torch.save({'state_dict': converted, 'meta': {'dropped_keys': dropped}}, destination)
    reloaded = torch.load(destination, weights_only=True)
    assert set(reloaded['state_dict']) == set(model.state_dict())


def test_conversion_rejects_unknown_keys_and_altered_tables():
    converter = load_converter()
    with pytest.raises(KeyError, match='no mapping'):
        converter.convert_state_dict({'decode_head.extra.weight': torch.zeros(1)})
    table = doc_position_table(32)
    table[3, 4] += 0.1
    with pytest.raises(ValueError, match='sinusoidal'):
        converter.convert_state_dict({'decode_head.max_channel5.pos_enc.pos_enc': table})


def authors_checkpoint(state_dict: dict) -> dict:
    """What the reference's utils/tools.py:save_model passes to torch.save:
    the unwrapped model's state dict, the optimizer's, and numpy losses and
    scores (np.mean of floats; ROCMetric's F1 is an array per threshold)."""
    weights = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.AdamW([weights], lr=1e-4)
    weights.sum().backward()
    optimizer.step()  # state with exp_avg tensors and a step count
    return {'epoch': 3, 'state_dict': state_dict, 'loss': np.mean([0.5, 0.25]),
            'optimizer': optimizer.state_dict(),
            'train_loss': [np.mean([0.75, 0.5])], 'test_loss': [np.float64(0.4)],
            'num_epoch': [1, 2, 3], 'best_mIoU': np.float64(0.61),
            'best_nIoU': np.float64(0.6), 'best_f1': 0.7, 'mIoU': [np.float64(0.61)],
            'nIoU': [np.float64(0.6)], 'f1': [np.linspace(0.0, 0.7, 11)]}


def run_converter(*args, script: str = 'tools/model_converters/serankdet2mmseg.py'
                  ) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, script,
                           *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_authors_file_converts_with_irstd_meta(tmp_path):
    source = tmp_path / 'SeRankDet_sirst.pth.tar'
    torch.save(authors_checkpoint(reference_state_dict()), source)
    destination = tmp_path / 'converted.pth'
    result = run_converter(source, destination)
    assert result.returncode == 0, result.stderr
    converted = torch.load(destination, weights_only=True)
    assert converted['meta']['dataset_meta'] == dict(IRSTDDataset.METAINFO)
    model = build_segmentor(base_channels=MODEL_BASE_CHANNELS)
    model.load_state_dict(converted['state_dict'], strict=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [source.name, destination.name])  # no temporary left behind


@pytest.mark.parametrize('damage', ['half_the_keys', 'wrong_shape'])
def test_incomplete_file_is_refused(tmp_path, damage):
    state = reference_state_dict()
    if damage == 'half_the_keys':
        state = {key: value for index, (key, value) in enumerate(state.items())
                 if index % 2 == 0}
        expected = r'\d+ missing keys: backbone\.'
    else:
        state['decode_head.Conv.weight'] = torch.randn(1, 64, 3, 3)
        expected = (r'1 tensors of the wrong shape .*decode_head\.conv_seg\.weight '
                    r'\(1, 64, 3, 3\) vs \(1, 64, 1, 1\)')
    source = tmp_path / 'damaged.pth'
    torch.save(authors_checkpoint(state), source)
    destination = tmp_path / 'converted.pth'
    if damage == 'wrong_shape':  # an earlier output stays as it was
        destination.write_bytes(b'earlier output')
    result = run_converter(source, destination)
    assert result.returncode == 1
    assert re.search(expected, result.stderr), result.stderr
    if damage == 'wrong_shape':
        assert destination.read_bytes() == b'earlier output'
    else:
        assert not destination.exists()
    assert not list(tmp_path.glob('*.tmp'))


def test_destination_equal_to_source_is_refused(tmp_path):
    """A hard link is the case a path comparison misses; the command refuses it."""
    source = tmp_path / 'official.pth'
    torch.save(authors_checkpoint(reference_state_dict()), source)
    original = source.read_bytes()
    destination = tmp_path / 'hard.pth'
    os.link(source, destination)
    result = run_converter(source, destination)
    assert result.returncode == 1
    assert 'is SRC' in result.stderr
    assert source.read_bytes() == original


def test_same_file_sees_paths_symlinks_and_hardlinks(tmp_path):
    from mmseg_serank.checkpoint.conversion import same_file
    source = tmp_path / 'official.pth'
    source.write_bytes(b'x')
    (tmp_path / 'link.pth').symlink_to(source)
    os.link(source, tmp_path / 'hard.pth')
    for alias in ('./official.pth', 'link.pth', 'hard.pth', 'sub/../official.pth'):
        assert same_file(str(source), str(tmp_path / alias)), alias
    (tmp_path / 'sub').mkdir()
    assert not same_file(str(source), str(tmp_path / 'other.pth'))


def test_old_converter_path_still_converts_with_a_deprecation_message(tmp_path):
    source = tmp_path / 'SeRankDet_sirst.pth.tar'
    torch.save(authors_checkpoint(reference_state_dict()), source)
    old, new = tmp_path / 'old.pth', tmp_path / 'new.pth'
    result = run_converter(source, old, script='tools/convert_official_checkpoint.py')
    assert result.returncode == 0, result.stderr
    assert 'moved to tools/model_converters/serankdet2mmseg.py' in result.stderr
    assert run_converter(source, new).returncode == 0
    old_state = torch.load(old, weights_only=True)['state_dict']
    new_state = torch.load(new, weights_only=True)['state_dict']
    assert old_state.keys() == new_state.keys()
    assert all(torch.equal(old_state[key], new_state[key]) for key in old_state)


def test_an_already_converted_file_is_named_as_such(tmp_path):
    """Converting the converter's own output listed every key as unmapped."""
    source = tmp_path / 'SeRankDet_sirst.pth.tar'
    torch.save(authors_checkpoint(reference_state_dict()), source)
    first = tmp_path / 'converted.pth'
    assert run_converter(source, first).returncode == 0
    again = run_converter(first, tmp_path / 'twice.pth')
    assert again.returncode == 1
    assert f'{first}: already converted' in again.stderr, again.stderr
    assert 'no mapping' not in again.stderr
    assert not (tmp_path / 'twice.pth').exists()
