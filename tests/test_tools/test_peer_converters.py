"""tools/model_converters/NAME2mmseg.py on every form the authors' code saves.

The authors' weights are the seeded ones of each network's parity fixture
(tests/test_models/data/peers), saved the ways the authors' training code and
BasicIRSTD save them. Every accepted form of one checkpoint must give the
identical result, which loads strictly into the network's config model.
"""
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from test_models.test_peer_parity import authors_state, load_fixture

from mmseg_serank.checkpoint import get_peer, load_checkpoint_strict, peer_names, run_converter
from mmseg_serank.checkpoint.parity import build_ours

from .conftest import REPO_ROOT


def prefixed(state, prefix: str) -> 'OrderedDict[str, torch.Tensor]':
    return OrderedDict((prefix + key, value) for key, value in state.items())


def authors_forms(state):
    """(file name, content) of each form the authors' code and ports write."""
    return [
        # DNANet / SCTransNet / BasicIRSTD: a training record around the weights.
        ('best.pth.tar', {'epoch': 12, 'state_dict': prefixed(state, 'model.'),
                          'total_loss': [np.float64(0.3)], 'mean_IOU': np.float64(0.7)}),
        # MSHNet's checkpoint.pkl: weights under 'net', DataParallel keys.
        ('checkpoint.pkl', {'net': prefixed(state, 'module.'), 'epoch': 3,
                            'optimizer': {'state': {}, 'param_groups': [{'lr': 0.05}]},
                            'iou': np.float64(0.5)}),
        # UIU-Net / RDIAN / MSHNet's weight.pkl: a bare state dict, also wrapped twice.
        ('weight.pth', prefixed(state, 'module.model.')),
        ('plain.tar', state),
    ]


def converted_state(path) -> 'OrderedDict[str, torch.Tensor]':
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.mark.parametrize('name', peer_names())
def test_every_authors_form_converts_to_one_result_that_loads_strictly(name, tmp_path):
    state = authors_state(load_fixture(name))
    results = []
    for file_name, content in authors_forms(state):
        source = tmp_path / file_name
        torch.save(content, source)
        destination = tmp_path / f'{file_name}.mmseg.pth'
        assert run_converter(name, [str(source), str(destination)]) == 0, file_name
        results.append(converted_state(destination))
    first = results[0]
    for other in results[1:]:
        assert list(other) == list(first)
        assert all(torch.equal(other[key], first[key]) for key in first)
    assert any(key.endswith('num_batches_tracked') for key in first) == any(
        key.endswith('num_batches_tracked') for key in state)
    model = build_ours(get_peer(name))
    load_checkpoint_strict(model, str(tmp_path / 'best.pth.tar.mmseg.pth'))


def test_converter_command_refuses_bad_files_naming_them(tmp_path):
    """The real command (RDIAN's, the smallest network) on hostile input."""
    state = authors_state(load_fixture('rdian'))
    destination = tmp_path / 'out.pth'
    crafted = tmp_path / 'crafted.pth'

    class Payload:
        def __reduce__(self):
            return (print, ('this must not run',))

    with open(crafted, 'wb') as handle:
        pickle.dump({'state_dict': Payload()}, handle)
    extra = tmp_path / 'extra.pth'
    torch.save({**state, 'extra_head.weight': torch.zeros(1)}, extra)
    wrong_suffix = tmp_path / 'weights.bin'
    torch.save(state, wrong_suffix)
    other_network = tmp_path / 'acm.pth'
    torch.save(authors_state(load_fixture('acm')), other_network)
    for source, expected in ((crafted, 'Refusing to load'),
                             (extra, 'extra_head.weight'),
                             (wrong_suffix, 'expected one of .pth'),
                             (other_network, 'keys are not RDIAN keys'),
                             (tmp_path / 'missing.pth', 'no such file')):
        result = subprocess.run(
            [sys.executable, 'tools/model_converters/rdian2mmseg.py', str(source),
             str(destination)], cwd=REPO_ROOT, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), timeout=300)
        assert result.returncode == 1, (source, result.stderr)
        assert str(source) in result.stderr and expected in result.stderr, result.stderr
        assert 'this must not run' not in result.stdout
        assert 'Traceback' not in result.stderr
        assert not destination.exists()


def test_a_converted_file_given_again_is_named_as_already_converted(tmp_path):
    source = tmp_path / 'best.pth'
    torch.save(authors_state(load_fixture('rdian')), source)
    converted = tmp_path / 'rdian_mmseg.pth'
    assert run_converter('rdian', [str(source), str(converted)]) == 0
    result = subprocess.run(
        [sys.executable, 'tools/model_converters/rdian2mmseg.py', str(converted),
         str(tmp_path / 'again.pth')], cwd=REPO_ROOT, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), timeout=300)
    assert result.returncode == 1
    assert f'{converted}: already converted' in result.stderr, result.stderr
    assert not (tmp_path / 'again.pth').exists()
