"""Each peer port against the authors' outputs kept in a fixture.

The fixtures are written by ``tools/analysis_tools/verify_peer_parity.py NAME
--author-src DIR --write-fixture`` with the authors' own code; here the same
seeded authors' weights are rebuilt from the stored key names and shapes,
converted with the network's converter and loaded strictly into the model of
its config, which must give the authors' probabilities within 1e-4 and have
the authors' parameter count.
"""
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from mmseg_serank.checkpoint import get_peer, load_checkpoint_safely, peer_names
from mmseg_serank.checkpoint.parity import (
    TOLERANCE,
    build_ours,
    our_probability,
    seeded_state,
)

FIXTURES = Path(__file__).parent / 'data' / 'peers'


def authors_state(fixture: dict) -> 'OrderedDict[str, torch.Tensor]':
    """The seeded authors' weights the fixture was made with."""
    template = OrderedDict(
        (key, torch.zeros(shape, dtype=getattr(torch, dtype)))
        for key, shape, dtype in fixture['keys'])
    return seeded_state(template, fixture['seed'])


def load_fixture(name: str) -> dict:
    return load_checkpoint_safely(str(FIXTURES / f'{name}.pt'))


@pytest.mark.parametrize('name', peer_names())
def test_port_gives_the_authors_probabilities(name):
    peer = get_peer(name)
    fixture = load_fixture(name)
    model = build_ours(peer)
    model.load_state_dict(peer.convert(authors_state(fixture)), strict=True)
    assert sum(p.numel() for p in model.parameters()) == fixture['authors_parameters']
    for inputs, expected in zip(fixture['inputs'], fixture['probabilities']):
        assert inputs.shape[1] == peer.in_channels
        actual = our_probability(model, inputs)
        assert expected.std() > 1e-3, 'the fixture output is near-constant'
        assert (actual - expected).abs().max().item() <= TOLERANCE
