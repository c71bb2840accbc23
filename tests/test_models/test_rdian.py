"""RDIAN port: shapes at any size, training, parameter count, the authors' weights.

The seeded comparison with the authors' code is in test_peer_parity.py. The
last test compares the authors' shipped ``params/best.pth`` with its
conversion on real SIRST images; it needs the authors' checkout, so it runs
only when ``RDIAN_CHECKPOINT`` names that file (in a checkout of
sun11999/RDIAN, or with ``RDIAN_AUTHOR_SRC`` naming one).
"""
import os
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_serank  # noqa: F401  (registers the models)
from mmseg_serank.checkpoint import get_peer, load_checkpoint_safely, run_converter

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / 'configs' / 'rdian' / 'rdian_1xb4-1k_sirst-256x256.py'
# PEERS.md: RDIAN() has 216,758 parameters, 200 of them the frozen kernels d11..d18.
AUTHORS_PARAMETERS = 216_758
FROZEN_PARAMETERS = 200
# The authors' d11..d18 as (row, column) of the -1 tap in their 5x5 kernels.
AUTHORS_MINUS_ONE_TAPS = ((0, 0), (0, 2), (0, 4), (2, 4), (4, 4), (4, 2), (4, 0), (2, 0))


def build_model() -> torch.nn.Module:
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(CONFIG)).model)
    model.init_weights()
    return model


def metas(height: int, width: int, batch: int = 1):
    size = (height, width)
    return [dict(img_shape=size, pad_shape=size, ori_shape=size)] * batch


def make_samples(labels: torch.Tensor):
    samples = []
    for label in labels:
        shape = tuple(label.shape)
        sample = SegDataSample(metainfo=dict(img_shape=shape, pad_shape=shape,
                                             ori_shape=shape))
        sample.gt_sem_seg = PixelData(data=label[None].long())
        samples.append(sample)
    return samples


@pytest.fixture(scope='module')
def model() -> torch.nn.Module:
    return build_model()


def test_parameter_count_and_frozen_direction_kernels(model):
    assert sum(p.numel() for p in model.parameters()) == AUTHORS_PARAMETERS
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    assert frozen == ['backbone.direction_kernels']
    assert sum(p.numel() for p in model.parameters() if not p.requires_grad) == FROZEN_PARAMETERS
    kernels = model.backbone.direction_kernels.detach()
    for kernel, (row, column) in zip(kernels[:, 0], AUTHORS_MINUS_ONE_TAPS):
        expected = torch.zeros(5, 5)
        expected[2, 2] = 1.0
        expected[row, column] = -1.0
        assert torch.equal(kernel, expected)


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50), (1, 1, 1)])
def test_logits_at_the_input_size(model, shape):
    batch, height, width = shape
    model.eval()
    with torch.no_grad():
        logits = model.encode_decode(torch.randn(batch, 1, height, width),
                                     metas(height, width, batch))
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize('batch', [2, 1])
def test_training_step(batch):
    """One map, one loss; batch 1 trains too (no BN after a pooled 1x1 map)."""
    model = build_model()
    # CBAM's MLP has one hidden unit (reduction 32); keep it out of ReLU's zero
    # side so that its weights get gradients too.
    with torch.no_grad():
        model.backbone.attention.channel_mlp[0].bias.fill_(1.0)
    model.train()
    labels = torch.zeros(batch, 30, 41)
    labels[:, 10:13, 20:22] = 1
    losses = model.loss(torch.randn(batch, 1, 30, 41), make_samples(labels))
    assert set(losses) == {'decode.loss_softiou', 'decode.acc_seg'}
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert model.backbone.direction_kernels.grad is None
    without_gradient = [name for name, p in model.named_parameters()
                        if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)]
    assert without_gradient == []


def test_loss_is_the_authors_per_image_soft_iou(model):
    """SoftLoULoss: mean over images of 1 - (I + 1) / (P + T - I + 1)."""
    head = model.decode_head
    labels = torch.zeros(2, 4, 5, dtype=torch.long)
    labels[0, 1:3, 1:3] = 1  # 4 target pixels in image 0, none in image 1
    logits = torch.zeros(2, 1, 4, 5)
    logits[1] = 2.0
    losses = head.loss_by_feat([logits], make_samples(labels))
    p0, p1 = 0.5, torch.sigmoid(torch.tensor(2.0)).item()
    image0 = 1 - (4 * p0 + 1) / (20 * p0 + 4 - 4 * p0 + 1)
    image1 = 1 - 1 / (20 * p1 + 1)
    assert losses['loss_softiou'].item() == pytest.approx((image0 + image1) / 2, abs=1e-6)


def test_traced_forward_follows_the_input_size(model):
    """No size is baked in: a trace made at one size runs at another (ONNX export)."""
    model.eval()
    logits = torch.nn.Sequential(model.backbone, model.decode_head)
    with torch.no_grad():
        traced = torch.jit.trace(logits, torch.randn(1, 1, 32, 48), check_trace=False)
        x = torch.randn(2, 1, 27, 37)
        assert torch.allclose(traced(x), logits(x), atol=1e-6)


def test_converter_names_unknown_and_missing_keys():
    fixture = load_checkpoint_safely(str(Path(__file__).parent / 'data' / 'peers' / 'rdian.pt'))
    state = OrderedDict((key, torch.zeros(shape)) for key, shape, _ in fixture['keys'])
    convert = get_peer('rdian').convert
    assert convert(state)['backbone.direction_kernels'].shape == (8, 1, 5, 5)
    with pytest.raises(KeyError, match='extra.weight'):
        convert(OrderedDict(state, **{'extra.weight': torch.zeros(1)}))
    del state['d13.weight']
    with pytest.raises(KeyError, match='d13.weight'):
        convert(state)


def authors_source(checkpoint: Path) -> Path:
    src = os.environ.get('RDIAN_AUTHOR_SRC')
    return Path(src) if src else checkpoint.resolve().parent.parent


def sirst_root() -> Path:
    return Path(os.environ.get('IRSTD_SIRST_ROOT', REPO_ROOT.parent / 'shared/data/sirst'))


@pytest.mark.skipif(not os.environ.get('RDIAN_CHECKPOINT'),
                    reason='set RDIAN_CHECKPOINT to the authors\' params/best.pth (from a '
                    'checkout of sun11999/RDIAN, or set RDIAN_AUTHOR_SRC to one) to compare '
                    'its conversion with their model on real SIRST images')
def test_converted_best_pth_gives_the_authors_probabilities_on_sirst(tmp_path):
    import numpy as np
    from PIL import Image

    checkpoint = Path(os.environ['RDIAN_CHECKPOINT'])
    src = authors_source(checkpoint)
    if not (src / 'model' / 'segmentation.py').is_file():
        pytest.skip(f'no RDIAN checkout at {src} (set RDIAN_AUTHOR_SRC)')
    sirst = sirst_root()
    if not (sirst / 'idx_427' / 'test.txt').is_file():
        pytest.skip(f'the real SIRST data set is not at {sirst} (set IRSTD_SIRST_ROOT)')
    converted = tmp_path / 'rdian_best.pth'
    assert run_converter('rdian', [str(checkpoint), str(converted)]) == 0

    authors = get_peer('rdian').build_authors(str(src))
    authors.load_state_dict(torch.load(checkpoint, map_location='cpu', weights_only=True))
    authors.eval()
    ours = build_model()
    load_checkpoint(ours, str(converted), map_location='cpu', strict=True)
    ours.eval()
    pipeline = Compose([dict(type='LoadIRImageFromFile'), dict(type='PackSegInputs')])
    count = int(os.environ.get('RDIAN_SIRST_IMAGES', '6'))
    # Misc_60 and Misc_104: where best.pth is most sensitive to float32 rounding
    # (its logits reach -500 and -788), of the 427 images.
    names = (sirst / 'idx_427' / 'test.txt').read_text().split()[:count]
    for name in names + ['Misc_60', 'Misc_104']:
        path = sirst / 'images' / f'{name}.png'
        # The authors' loader: PIL grey, ToTensor (x / 255), Normalize([-0.1246], [1.0923]).
        grey = torch.from_numpy(np.array(Image.open(path).convert('L'))).float().div(255)
        theirs = ((grey + 0.1246) / 1.0923)[None, None]
        size = tuple(theirs.shape[-2:])
        packed = pipeline(dict(img_path=str(path)))
        batch = dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']])
        with torch.no_grad():
            expected = torch.sigmoid(authors(theirs))
            actual = torch.sigmoid(ours.encode_decode(theirs, metas(*size)))
            ours_input = ours.data_preprocessor(batch, False)['inputs']
            end_to_end = ours.test_step(batch)[0].seg_logits.data
        assert expected.std() > 1e-3
        # Same input: the port computes what the authors' model computes.
        assert (actual - expected).abs().max().item() <= 1e-4, name
        # The project's loader and IRSTDDataPreProcessor give their input up to float32
        # rounding ((x - m) / s vs (x / 255 - m') / s'); best.pth turns that 1-ulp
        # difference into up to 1.2e-4 in probability (Misc_60; the authors' own model
        # moves by 4e-5 between float32 and float64 there).
        assert (ours_input - theirs).abs().max().item() <= 2.5e-7, name
        assert (end_to_end - expected[0]).abs().max().item() <= 2e-4, name
