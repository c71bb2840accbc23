"""DNANet port: sizes, deep supervision, batch 1, parameter counts, converter."""
import argparse
import os.path as osp
import shlex
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_serank  # noqa: F401  (registers the models)
from mmseg_serank.checkpoint import get_peer, load_checkpoint_safely, run_converter
from mmseg_serank.checkpoint.parity import seeded_state

from .conftest import REPO_ROOT

BASE_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'models', 'dnanet.py')
FIXTURE = osp.join(osp.dirname(__file__), 'data', 'peers', 'dnanet.pt')
# sum(p.numel()) of the authors' DNANet at its defaults, and of BasicIRSTD's
# one-channel port (PEERS.md).
AUTHORS_PARAMETERS = 4_696_888
BASICIRSTD_PARAMETERS = 4_696_568
HEAD_LOSS_KEYS = ['aux1_loss_softiou', 'aux2_loss_softiou', 'aux3_loss_softiou',
                  'loss_softiou']


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """One intra-op thread: DNANet's many small ops at these sizes run faster
    so than with threads competing on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(cfg_options: dict = None) -> torch.nn.Module:
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_CONFIG)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def model() -> torch.nn.Module:
    return build()


def metas(height: int, width: int, batch: int = 1):
    size = (height, width)
    return [dict(img_shape=size, pad_shape=size, ori_shape=size)] * batch


def make_samples(labels: torch.Tensor):
    samples = []
    for label in labels:
        shape = tuple(label.shape)
        sample = SegDataSample(metainfo=dict(img_shape=shape, pad_shape=shape, ori_shape=shape))
        sample.gt_sem_seg = PixelData(data=label[None].long())
        samples.append(sample)
    return samples


def test_parameter_count_is_the_authors(model):
    assert sum(p.numel() for p in model.parameters()) == AUTHORS_PARAMETERS
    grey = build(dict(model=dict(backbone=dict(in_channels=1))))
    assert sum(p.numel() for p in grey.parameters()) == BASICIRSTD_PARAMETERS


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50)])
def test_logits_at_odd_sizes(model, shape):
    batch, height, width = shape
    model.eval()
    with torch.no_grad():
        features = model.extract_feat(torch.randn(batch, 3, height, width))
        logits = model.encode_decode(torch.randn(batch, 3, height, width),
                                     metas(height, width, batch))
    padded = (-(-height // 16) * 16, -(-width // 16) * 16)
    assert [f.shape[1] for f in features] == [16, 16, 16, 16, 32, 64, 128, 256]
    assert tuple(features[0].shape[-2:]) == padded
    assert tuple(features[-1].shape[-2:]) == (padded[0] // 16, padded[1] // 16)
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


def test_prediction_is_final4_of_the_deep_supervision_maps(model):
    model.eval()
    with torch.no_grad():
        features = model.extract_feat(torch.randn(1, 3, 32, 48))
        every = model.decode_head.forward_all(features)
        prediction = model.decode_head(features)
    assert len(every) == 4
    assert all(m.shape == (1, 1, 32, 48) for m in every)
    assert torch.equal(prediction, every[-1])


@pytest.mark.parametrize('batch', [2, 1])
def test_training_step(model, batch):
    """Batch 1 trains too: the attention pools feed convs without BN."""
    model.train()
    model.zero_grad()
    labels = torch.zeros(batch, 32, 40)
    labels[:, 10:13, 20:22] = 1
    losses = model.loss(torch.randn(batch, 3, 32, 40), make_samples(labels))
    assert set(losses) == {f'decode.{k}' for k in HEAD_LOSS_KEYS + ['acc_seg']}
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    if batch == 2:  # at batch 1 a channel gate's ReLU may be off for the one image
        missing = [name for name, p in model.named_parameters()
                   if p.grad is None or p.grad.abs().sum() == 0]
        assert missing == []


def test_losses_are_averaged_over_the_four_maps(model):
    """SoftIoU of each map (whole batch), weighted 1/4 as the authors average them."""
    head = model.decode_head
    labels = torch.zeros(2, 5, 6, dtype=torch.long)
    labels[0, 1:3, 2:4] = 1
    logit_values = (-1.0, 0.0, 1.0, 0.5)
    logits = [torch.full((2, 1, 16, 16), v) for v in logit_values]
    losses = head.loss_by_feat(logits, make_samples(labels))
    pixels, positives = 2 * 5 * 6, 4

    def soft_iou(logit):
        p = torch.sigmoid(torch.tensor(logit)).item()
        intersection = p * positives
        return 1 - (intersection + 1) / (p * pixels + positives - intersection + 1)

    for name, value in zip(HEAD_LOSS_KEYS, logit_values):
        assert losses[name].item() == pytest.approx(0.25 * soft_iou(value), abs=1e-6)


def test_converter_names_an_unknown_key():
    state = OrderedDict([('final.weight', torch.zeros(1, 16, 1, 1))])
    with pytest.raises(KeyError, match='final.weight'):
        get_peer('dnanet').convert(state)


def test_one_channel_port_converts_with_the_cfg_options_hint(tmp_path):
    """BasicIRSTD's grey DNANet: same keys, a one-channel first conv and shortcut."""
    fixture = load_checkpoint_safely(FIXTURE)
    grey_shapes = {'conv0_0.0.conv1.weight': [16, 1, 3, 3],
                   'conv0_0.0.shortcut.0.weight': [16, 1, 1, 1]}
    template = OrderedDict(
        (key, torch.zeros(grey_shapes.get(key, shape), dtype=getattr(torch, dtype)))
        for key, shape, dtype in fixture['keys'])
    state = seeded_state(template, fixture['seed'])
    src, dst = tmp_path / 'DNANet_400.pth.tar', tmp_path / 'dnanet_grey.pth'
    torch.save({'epoch': 400, 'total_loss': [0.1],
                'state_dict': {f'model.{k}': v for k, v in state.items()}}, src)
    hint = shlex.split(get_peer('dnanet').cfg_options_hint)
    assert run_converter('dnanet', [str(src), str(dst), '--cfg-options', *hint]) == 0
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    model = build(parser.parse_args(['--cfg-options', *hint]).cfg_options)
    assert model.data_preprocessor.grey
    model.load_state_dict(load_checkpoint_safely(str(dst))['state_dict'], strict=True)
    model.eval()
    with torch.no_grad():
        logits = model.encode_decode(torch.randn(1, 1, 40, 52), metas(40, 52))
    assert logits.shape == (1, 1, 40, 52)
    assert model.backbone.size_divisor == 32
