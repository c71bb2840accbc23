"""Check a peer network's port against the authors' own code.

Usage::

    python tools/analysis_tools/verify_peer_parity.py NAME --author-src DIR [--write-fixture]

NAME is one of dnanet, mshnet, acm, rdian, uiunet, sctransnet; DIR is a
checkout of the authors' repository (e.g. ``git -C MIRROR.git archive HEAD |
tar -x -C DIR``; their own extra packages, such as einops for SCTransNet, go
on PYTHONPATH for this run only). The authors' default network is filled with
seeded weights and randomised BatchNorm statistics
(:func:`mmseg_serank.checkpoint.parity.seeded_state`), converted with the
network's converter and loaded strictly into the model of its
``NAME_1xb4-1k_sirst-256x256.py`` config; both run in eval mode on the same
normalised inputs, and the largest probability difference at 1x256x256 and
2x128x192 and both parameter counts are printed. Exit status 1 if a
difference exceeds 1e-4 or the counts differ.

``--write-fixture`` also writes ``tests/test_models/data/peers/NAME.pt``: the
authors' key names and shapes, the seed, and inputs and the authors'
probabilities at 1x64x64 and 2x32x64, from which
``tests/test_models/test_peer_parity.py`` rebuilds the same weights and checks
converter and model in CI without the authors' code.
"""
import argparse
import os.path as osp
import sys

import torch

import mmseg_serank  # noqa: F401  (registers the models)
from mmseg_serank.checkpoint import get_peer, peer_names, save_atomically
from mmseg_serank.checkpoint.parity import (
    CHECK_SHAPES,
    FIXTURE_SHAPES,
    TOLERANCE,
    build_ours,
    our_probability,
    parity_inputs,
    seeded_state,
)

FIXTURE_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'tests',
                       'test_models', 'data', 'peers')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', choices=peer_names())
    parser.add_argument('--author-src', required=True,
                        help="checkout of the authors' repository")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--write-fixture', action='store_true')
    args = parser.parse_args()
    if not osp.isdir(args.author_src):
        print(f'error: {args.author_src}: no such folder', file=sys.stderr)
        return 1
    peer = get_peer(args.name)
    torch.manual_seed(args.seed)
    authors = peer.build_authors(args.author_src).eval()
    state = seeded_state(authors.state_dict(), args.seed)
    authors.load_state_dict(state, strict=True)
    ours = build_ours(peer)
    ours.load_state_dict(peer.convert(state), strict=True)
    ours.eval()
    authors_count = sum(p.numel() for p in authors.parameters())
    our_count = sum(p.numel() for p in ours.parameters())
    print(f'{peer.title}: parameters authors {authors_count:,}, ours {our_count:,}')
    failed = authors_count != our_count

    def probabilities(shape):
        inputs = parity_inputs(peer.in_channels, shape, args.seed)
        with torch.no_grad():
            expected = peer.authors_probability(authors(inputs)).float()
        return inputs, expected, our_probability(ours, inputs)

    for shape in CHECK_SHAPES:
        _, expected, actual = probabilities(shape)
        difference = (expected - actual).abs().max().item()
        failed |= not difference <= TOLERANCE
        print(f'  {shape[0]}x{peer.in_channels}x{shape[1]}x{shape[2]}: max |p_authors - '
              f'p_ours| = {difference:.3g} (authors\' probabilities: std '
              f'{expected.std().item():.3g}, range {expected.min().item():.3g}-'
              f'{expected.max().item():.3g})')
    if args.write_fixture:
        records = [probabilities(shape) for shape in FIXTURE_SHAPES]
        fixture = {
            'network': peer.title, 'seed': args.seed,
            'keys': [[key, list(value.shape), str(value.dtype).replace('torch.', '')]
                     for key, value in state.items()],
            'authors_parameters': authors_count,
            'inputs': [inputs for inputs, _, _ in records],
            'probabilities': [expected for _, expected, _ in records],
            'made_by': f'python tools/analysis_tools/verify_peer_parity.py {args.name} '
                       '--author-src DIR --write-fixture',
        }
        path = osp.normpath(osp.join(FIXTURE_DIR, f'{args.name}.pt'))
        save_atomically(fixture, path)
        print(f'wrote {path}')
    print('FAILED' if failed else f'OK (within {TOLERANCE:g}, equal parameter counts)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
