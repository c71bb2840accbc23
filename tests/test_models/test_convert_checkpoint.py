import importlib.util
import math
import os.path as osp

import pytest
import torch

from .conftest import REPO_ROOT, build_segmentor

REFERENCE_KEYS = osp.join(osp.dirname(__file__), 'data', 'reference_keys.txt')
# The model the converted reference checkpoint must load into (reference widths).
MODEL_BASE_CHANNELS = 64


def load_converter():
    path = osp.join(REPO_ROOT, 'tools', 'convert_official_checkpoint.py')
    spec = importlib.util.spec_from_file_location('convert_official_checkpoint', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
