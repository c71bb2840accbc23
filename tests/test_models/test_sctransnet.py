"""SCTransNet port: sizes, deep supervision, loss, parameter count, converter.

Parity with the authors' code is checked by test_peer_parity.py (fixture
written by tools/analysis_tools/verify_peer_parity.py); here the model is mostly
built at base width 4 to stay fast.
"""
import ast
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.checkpoint import get_peer, load_checkpoint_safely
from mmseg_serank.checkpoint.conversion import run_converter

from .conftest import REPO_ROOT
from .test_peer_parity import authors_state, load_fixture

BASE_CONFIG = Path(REPO_ROOT) / 'configs' / '_base_' / 'models' / 'sctransnet.py'
# sum(p.numel() for p in SCTransNet(get_SCTrans_config(), n_channels=1, img_size=256,
# mode='test', deepsuper=True).parameters()) (docs/PEERS.md).
AUTHORS_PARAMETERS = 11_325_939
LOSS_KEYS = {'aux1_loss_ce', 'aux2_loss_ce', 'aux3_loss_ce', 'aux4_loss_ce', 'aux5_loss_ce',
             'loss_ce', 'acc_seg'}


def build(base_channels: int = 4, **backbone) -> torch.nn.Module:
    init_default_scope('mmseg')
    cfg = Config.fromfile(str(BASE_CONFIG))
    cfg.model.backbone.base_channels = base_channels
    cfg.model.backbone.update(backbone)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def metas(height: int, width: int, batch: int = 1):
    size = (height, width)
    return [dict(img_shape=size, pad_shape=size, ori_shape=size)] * batch


def samples(labels: torch.Tensor):
    result = []
    for label in labels:
        sample = SegDataSample(metainfo=dict(img_shape=tuple(label.shape),
                                             pad_shape=tuple(label.shape),
                                             ori_shape=tuple(label.shape)))
        sample.gt_sem_seg = PixelData(data=label[None].long())
        result.append(sample)
    return result


@pytest.fixture(scope='module')
def small_model() -> torch.nn.Module:
    return build()


def test_parameter_count_is_the_authors():
    model = build(base_channels=32)
    assert sum(p.numel() for p in model.parameters()) == AUTHORS_PARAMETERS
    names = dict(model.named_parameters())
    # Unused by the authors' forward, kept for their checkpoints and count.
    assert sum(names[f'backbone.patch_embeds.{i}.pos_embed'].numel() for i in range(4)) == 122_880
    assert sum(1 for name in names if '.unused_scales.' in name) == 64


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50)])
def test_encode_decode_gives_logits_at_the_input_size(small_model, shape):
    batch, height, width = shape
    small_model.eval()
    inputs = torch.randn(batch, 1, height, width)
    with torch.no_grad():
        features = small_model.extract_feat(inputs)
        logits = small_model.encode_decode(inputs, metas(height, width, batch))
    padded = [-(-s // 16) * 16 for s in (height, width)]
    assert [tuple(f.shape[-2:]) for f in features] == [
        (padded[0] >> i, padded[1] >> i) for i in (0, 1, 2, 3, 4)]
    assert [f.shape[1] for f in features] == [4, 8, 16, 32, 32]
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


def test_prediction_is_the_last_deep_supervision_map(small_model):
    small_model.eval()
    head = small_model.decode_head
    with torch.no_grad():
        features = small_model.extract_feat(torch.randn(1, 1, 32, 48))
        maps = head.forward_all(features)
        prediction = head.forward_prediction(features)
    assert len(maps) == 6 and all(m.shape == (1, 1, 32, 48) for m in maps)
    torch.testing.assert_close(maps[-1], prediction)


def test_size_divisor_pads_further_and_must_fit_the_grid():
    model = build(size_divisor=32)
    assert model.extract_feat(torch.randn(1, 1, 40, 20))[0].shape[-2:] == (64, 32)
    with pytest.raises(ValueError, match='multiple of 16'):
        build(size_divisor=24)


@pytest.mark.parametrize('batch', [2, 1])
def test_training_step_trains_every_used_parameter(small_model, batch):
    small_model.train()
    inputs = torch.randn(batch, 1, 30, 20)
    labels = torch.zeros(batch, 30, 20)
    labels[:, 10:14, 5:8] = 1
    losses = small_model.loss(inputs, samples(labels))
    assert set(losses) == {f'decode.{key}' for key in LOSS_KEYS}
    loss, _ = small_model.parse_losses(losses)
    small_model.zero_grad()
    loss.backward()
    missing = {name for name, p in small_model.named_parameters()
               if p.grad is None or p.grad.abs().sum() == 0}
    unused = {name for name, _ in small_model.named_parameters()
              if name.endswith('pos_embed') or '.unused_scales.' in name}
    assert missing == unused


def test_loss_is_the_authors_summed_bce(small_model):
    head = small_model.decode_head
    labels = torch.zeros(2, 5, 6)
    labels[0, 1:3, 2:4] = 1
    labels[1, 4, 5] = 1
    generator = torch.Generator().manual_seed(0)
    # Maps larger than the label (the backbone's padding) are cropped.
    logits = [torch.randn(2, 1, 16, 16, generator=generator) for _ in range(6)]
    losses = head.loss_by_feat(logits, samples(labels))
    # The authors: nn.BCELoss (mean) on the sigmoid of each of the six maps, summed.
    expected = [F.binary_cross_entropy(x[:, :, :5, :6].sigmoid(), labels[:, None])
                for x in logits]
    names = [f'aux{k}_loss_ce' for k in range(1, 6)] + ['loss_ce']
    for name, value in zip(names, expected):
        torch.testing.assert_close(losses[name], value)


def test_authors_checkpoint_file_converts_and_loads(tmp_path):
    peer = get_peer('sctransnet')
    state = authors_state(load_fixture('sctransnet'))
    # As the authors' train.py saves it: their Net wrapper prefixes 'model.'.
    src = tmp_path / 'SCTransNet_1000.pth.tar'
    torch.save({'epoch': 1000, 'state_dict': {f'model.{k}': v for k, v in state.items()},
                'total_loss': [0.5]}, src)
    dst = tmp_path / 'converted.pth'
    assert run_converter('sctransnet', [str(src), str(dst)]) == 0
    converted = load_checkpoint_safely(str(dst))['state_dict']
    model = build(base_channels=32)
    model.load_state_dict(converted, strict=True)
    assert len(converted) == len(state) == len(model.state_dict())
    with pytest.raises(KeyError, match='mtc.extra.weight'):
        peer.convert({**state, 'mtc.extra.weight': torch.zeros(1)})


def test_no_module_imports_einops_or_ml_collections():
    package = Path(REPO_ROOT) / 'mmseg_serank'
    offenders = []
    for path in package.rglob('*.py'):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or '']
            else:
                continue
            if any(name.split('.')[0] in ('einops', 'ml_collections') for name in names):
                offenders.append(f'{path.relative_to(REPO_ROOT)}:{node.lineno}')
    assert offenders == []
