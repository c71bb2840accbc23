"""UIU-Net port: sizes, deep supervision, the batch-1 guard and BasicIRSTD's weights.

The network is used at its published size (50.5 M parameters) on small inputs;
agreement with the authors' outputs is checked by test_peer_parity.py.
"""
import argparse
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.checkpoint import get_peer, load_checkpoint_safely
from mmseg_serank.checkpoint.conversion import run_converter
from mmseg_serank.checkpoint.parity import seeded_state

from .conftest import REPO_ROOT

REPO = Path(REPO_ROOT)

CONFIG = REPO / 'configs' / 'uiunet' / 'uiunet_1xb4-1k_sirst-256x256.py'
AUTHORS_PARAMETERS = 50_541_461  # UIUNET(3, 1), docs/PEERS.md
LOSS_KEYS = {f'decode.aux{k}_loss_ce' for k in range(1, 7)} | {'decode.loss_ce',
                                                               'decode.acc_seg'}


def build(cfg_options=None) -> torch.nn.Module:
    init_default_scope('mmseg')
    cfg = Config.fromfile(CONFIG)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build()


def metas(height, width, batch=1):
    size = (height, width)
    return [dict(img_shape=size, pad_shape=size, ori_shape=size)] * batch


def samples(labels):
    result = []
    for label in labels:
        sample = SegDataSample(metainfo=dict(img_shape=tuple(label.shape),
                                             pad_shape=tuple(label.shape),
                                             ori_shape=tuple(label.shape)))
        sample.gt_sem_seg = PixelData(data=label[None].long())
        result.append(sample)
    return result


def test_parameter_count_is_the_authors(model):
    assert sum(p.numel() for p in model.parameters()) == AUTHORS_PARAMETERS


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50)])
def test_any_size_gives_input_sized_logits(model, shape):
    batch, height, width = shape
    model.eval()
    with torch.no_grad():
        features = model.extract_feat(torch.randn(batch, 3, height, width))
        logits = model.encode_decode(torch.randn(batch, 3, height, width),
                                     metas(height, width, batch))
    # No padding: the finest maps are at the input size.
    assert features[0].shape[-2:] == (height, width)
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


def test_training_step_at_batch_2(model):
    model.train()
    labels = torch.zeros(2, 24, 24)
    labels[:, 10:13, 5:9] = 1
    losses = model.loss(torch.randn(2, 3, 24, 24), samples(labels))
    assert set(losses) == LOSS_KEYS
    loss, _ = model.parse_losses(losses)
    model.zero_grad()
    loss.backward()
    no_gradient = [name for name, p in model.named_parameters() if p.grad is None]
    assert no_gradient == []
    model.zero_grad()


def test_batch_of_one_stops_with_advice(model):
    model.train()
    labels = torch.zeros(1, 32, 32)
    with pytest.raises(ValueError, match=r'batch of 1.*batch >= 2.*SyncBN'):
        model.loss(torch.randn(1, 3, 32, 32), samples(labels))


def test_loss_is_the_authors_sum_of_seven_bces(model):
    head = model.decode_head
    labels = torch.zeros(2, 5, 6, dtype=torch.long)
    labels[0, 1:3, 2:4] = 1
    labels[1, 4, 5] = 1
    generator = torch.Generator().manual_seed(0)
    maps = [3 * torch.randn(2, 1, 8, 8, generator=generator) for _ in range(7)]
    losses = head.loss_by_feat(maps, samples(labels))
    # muti_bce_loss_fusion: nn.BCELoss (mean) of each sigmoid map, summed with weight 1
    # (in float64 here: BCE on float32 probabilities loses ~1e-4 at confident pixels).
    target = labels[:, None].double()
    expected = [F.binary_cross_entropy(m[..., :5, :6].double().sigmoid(), target).item()
                for m in maps]
    for k in range(6):
        assert losses[f'aux{k + 1}_loss_ce'].item() == pytest.approx(expected[k], abs=1e-5)
    assert losses['loss_ce'].item() == pytest.approx(expected[6], abs=1e-5)


def test_basicirstd_one_channel_checkpoint_converts_and_loads(tmp_path):
    """BasicIRSTD's port (in_ch=1, ``model.`` keys in {'epoch','state_dict',...})."""
    peer = get_peer('uiunet')
    fixture = load_checkpoint_safely(
        str(REPO / 'tests' / 'test_models' / 'data' / 'peers' / 'uiunet.pt'))
    template = OrderedDict()
    for key, shape, dtype in fixture['keys']:
        if key == 'stage1.rebnconvin.conv_s1.weight':
            shape = [shape[0], 1, *shape[2:]]
        template[key] = torch.zeros(shape, dtype=getattr(torch, dtype))
    state = seeded_state(template, 0)
    src, dst = tmp_path / 'UIUNet_best.pth.tar', tmp_path / 'uiunet_1ch.pth'
    torch.save({'epoch': 400, 'state_dict': {f'model.{k}': v for k, v in state.items()},
                'total_loss': [0.1]}, src)
    options = peer.cfg_options_hint.split()
    assert run_converter('uiunet', [str(src), str(dst), '--cfg-options', *options]) == 0

    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    model = build(parser.parse_args(['--cfg-options', *options]).cfg_options)
    converted = load_checkpoint_safely(str(dst))['state_dict']
    model.load_state_dict(converted, strict=True)
    assert sum(p.numel() for p in model.parameters()) == 50_540_309  # BasicIRSTD's count
    grey = torch.full((3, 20, 30), 101.0)  # a BGR image of equal channels
    data = model.data_preprocessor(dict(inputs=[grey], data_samples=None), False)
    assert data['inputs'].shape == (1, 1, 20, 30)
    # BasicIRSTD's NUAA-SIRST normalisation of grey value 101.
    expected = (101 - 101.06385040283203) / 34.619606018066406
    assert torch.allclose(data['inputs'], torch.full_like(data['inputs'], expected), atol=1e-6)
