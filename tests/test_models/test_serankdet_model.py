import copy
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.models.layers import CentralDifferenceConv2d

from .conftest import BASE_MODEL_CONFIG, build_segmentor, randomise_norms_and_gammas


def metas(height: int, width: int, batch: int = 1):
    size = (height, width)
    return [dict(img_shape=size, pad_shape=size, ori_shape=size)] * batch


@pytest.mark.parametrize('size', [(1, 1), (7, 13), (96, 135), (388, 456), (600, 800)])
def test_encode_decode_returns_input_size(tiny_segmentor, size):
    tiny_segmentor.eval()
    inputs = torch.randn(1, 3, *size)
    with torch.no_grad():
        features = tiny_segmentor.extract_feat(inputs)
        logits = tiny_segmentor.encode_decode(inputs, metas(*size))
    padded = [-(-s // 16) * 16 for s in size]
    assert [tuple(f.shape[-2:]) for f in features] == [
        (padded[0] >> i, padded[1] >> i) for i in range(5)]
    assert [f.shape[1] for f in features] == [4, 8, 16, 32, 64]
    assert logits.shape == (1, 1, *size)
    assert torch.isfinite(logits).all()


def make_samples(labels: torch.Tensor):
    samples = []
    for label in labels:
        sample = SegDataSample(metainfo=dict(img_shape=tuple(label.shape),
                                             pad_shape=tuple(label.shape),
                                             ori_shape=tuple(label.shape)))
        sample.gt_sem_seg = PixelData(data=label[None].long())
        samples.append(sample)
    return samples


def test_every_parameter_gets_a_gradient(tiny_segmentor):
    randomise_norms_and_gammas(tiny_segmentor)  # gamma=0 would zero LSFF gradients
    tiny_segmentor.train()
    inputs = torch.randn(2, 3, 40, 56)
    labels = torch.zeros(2, 40, 56)
    labels[:, 10:14, 20:23] = 1
    losses = tiny_segmentor.loss(inputs, make_samples(labels))
    loss, _ = tiny_segmentor.parse_losses(losses)
    loss.backward()
    missing = [name for name, p in tiny_segmentor.named_parameters()
               if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


def test_loss_keys_weights_and_cropping():
    head = build_segmentor().decode_head
    head.output_weights = (0.5, 1.0, 0.0, 1.0, 2.0, 1.0)
    labels = torch.zeros(2, 5, 6, dtype=torch.long)
    labels[0, 1:3, 2:4] = 1
    labels[1, 4, 5] = 255
    logits = [torch.full((2, 1, 16, 16), float(v)) for v in (-1, 0, 1, 2, -2, 0.5)]
    losses = head.loss_by_feat(logits, make_samples(labels))
    assert set(losses) == {'aux1_loss_softiou', 'aux2_loss_softiou', 'aux4_loss_softiou',
                           'aux5_loss_softiou', 'loss_softiou', 'acc_seg'}
    valid = 2 * 5 * 6 - 1
    positives = 4

    def soft_iou(logit):
        p = torch.sigmoid(torch.tensor(float(logit))).item()
        intersection = p * positives
        return 1 - (intersection + 1) / (p * valid + positives - intersection + 1)

    expected = {'aux1_loss_softiou': 0.5 * soft_iou(-1), 'aux2_loss_softiou': soft_iou(0),
                'aux4_loss_softiou': soft_iou(2), 'aux5_loss_softiou': 2 * soft_iou(-2),
                'loss_softiou': soft_iou(0.5)}
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value, abs=1e-6)
    # fused logit 0.5 -> every valid pixel predicted target; 4 of 59 are right
    assert losses['acc_seg'].item() == pytest.approx(100.0 * positives / valid, abs=1e-4)


def test_predict_crops_and_thresholds(tiny_segmentor):
    tiny_segmentor.eval()
    inputs = torch.randn(1, 3, 21, 30)
    sample = SegDataSample(metainfo=dict(img_shape=(21, 30), pad_shape=(21, 30),
                                         ori_shape=(21, 30)))
    with torch.no_grad():
        padded_logits = tiny_segmentor.decode_head(tiny_segmentor.extract_feat(inputs))
        result = tiny_segmentor.predict(inputs, [sample])[0]
    assert padded_logits.shape[-2:] == (32, 32)
    probabilities = padded_logits[0, :, :21, :30].sigmoid()
    assert torch.allclose(result.seg_logits.data, probabilities, atol=1e-6)
    assert torch.equal(result.pred_sem_seg.data, (probabilities > 0.5).to(probabilities))


def test_sample_norm_is_batch_independent_and_batch_norm_is_not():
    torch.manual_seed(0)
    model = build_segmentor(attention_norm='sample')
    randomise_norms_and_gammas(model)
    model.eval()
    batch = torch.randn(3, 3, 16, 32)
    batch[1:] *= 3.0
    with torch.no_grad():
        alone = model.encode_decode(batch[:1], metas(16, 32))
        together = model.encode_decode(batch, metas(16, 32, 3))[:1]
        assert (alone - together).abs().max() < 1e-5
        for attention in model.backbone.rank_attentions:
            attention.attention_norm = 'batch'
        alone = model.encode_decode(batch[:1], metas(16, 32))
        together = model.encode_decode(batch, metas(16, 32, 3))[:1]
    assert (alone - together).abs().max() > 1e-3


def eval_and_deploy_forms():
    """A width-8 segmentor in eval form with non-trivial BN, and its deploy form."""
    torch.manual_seed(0)
    model = build_segmentor(base_channels=8)
    randomise_norms_and_gammas(model)
    model.eval()
    deployed = copy.deepcopy(model)
    deployed.backbone.switch_to_deploy()
    deployed.decode_head.switch_to_deploy()
    return model, deployed


@pytest.mark.parametrize('size', [(16, 32), (9, 20)])
def test_deploy_form_matches_eval_form(size):
    model, deployed = eval_and_deploy_forms()
    assert not any(isinstance(m, (CentralDifferenceConv2d, torch.nn.BatchNorm2d))
                   for m in deployed.modules())
    inputs = torch.randn(2, 3, *size)
    with torch.no_grad():
        expected = model.encode_decode(inputs, metas(*size, 2))
        actual = deployed.encode_decode(inputs, metas(*size, 2))
    assert (expected - actual).abs().max() < 1e-4


def test_deploy_option_builds_the_form_that_loads_a_deployed_state_dict():
    _, deployed = eval_and_deploy_forms()
    built = build_segmentor(base_channels=8, backbone_and_head=dict(deploy=True))
    built.load_state_dict(deployed.state_dict(), strict=True)
    built.eval()
    inputs = torch.randn(1, 3, 20, 24)
    with torch.no_grad():
        assert torch.equal(built.encode_decode(inputs, metas(20, 24)),
                           deployed.encode_decode(inputs, metas(20, 24)))


def test_syncbn_by_config_keeps_the_parameter_names():
    plain = build_segmentor()
    synced = build_segmentor(
        backbone_and_head=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)))
    norms = [m for m in synced.modules() if isinstance(m, torch.nn.SyncBatchNorm)]
    assert norms and not any(type(m) is torch.nn.BatchNorm2d for m in synced.modules())
    assert len(norms) == sum(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    # Checkpoints move between single-GPU (BN) and multi-GPU (SyncBN) runs.
    synced.load_state_dict(plain.state_dict(), strict=True)


def _loss_sample(size: int = 32) -> SegDataSample:
    sample = SegDataSample(
        gt_sem_seg=PixelData(data=torch.zeros(1, size, size, dtype=torch.long)))
    sample.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size),
                             pad_shape=(size, size)))
    return sample


def test_base_channels_alone_sets_the_width_of_backbone_and_head():
    """One setting: the default config with only model.backbone.base_channels changed."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_MODEL_CONFIG)
    cfg.model.backbone.base_channels = 8
    model = MODELS.build(cfg.model)
    assert model.backbone.out_channels == (8, 16, 32, 64, 128)
    assert model.decode_head.in_channels == [8, 16, 32, 64, 128]
    assert model.decode_head.channels == 8
    losses = model.loss(torch.rand(1, 3, 32, 32), [_loss_sample()])
    assert torch.isfinite(losses['decode.loss_softiou'])
    # Same modules and state-dict keys as mmseg's EncoderDecoder with explicit widths
    # (checkpoints of either load into the other).
    explicit = copy.deepcopy(cfg.model)
    explicit.type = 'EncoderDecoder'
    explicit.decode_head.update(in_channels=[8, 16, 32, 64, 128], channels=8)
    stock = MODELS.build(explicit)
    assert {k: v.shape for k, v in stock.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()}
    stock.load_state_dict(model.state_dict(), strict=True)


def test_explicit_head_widths_are_kept_and_a_mismatch_names_the_settings():
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_MODEL_CONFIG)
    cfg.model.backbone.base_channels = 4
    cfg.model.decode_head.update(in_channels=[8, 16, 32, 64, 128], channels=8)
    model = MODELS.build(cfg.model)
    assert model.decode_head.in_channels == [8, 16, 32, 64, 128]
    assert model.decode_head.channels == 8
    expected = re.escape('widths [4, 8, 16, 32, 64] but model.decode_head.in_channels is '
                         '[8, 16, 32, 64, 128]; set model.decode_head.in_channels=None and '
                         'model.decode_head.channels=None')
    with pytest.raises(ValueError, match=expected):
        model.loss(torch.rand(1, 3, 32, 32), [_loss_sample()])
    model.eval()
    with pytest.raises(ValueError, match=expected), torch.no_grad():
        model.predict(torch.rand(1, 3, 32, 32), [_loss_sample()])


def test_head_widths_left_none_under_stock_encoder_decoder_name_the_segmentor():
    init_default_scope('mmseg')
    cfg = Config.fromfile(BASE_MODEL_CONFIG)
    cfg.model.type = 'EncoderDecoder'
    with pytest.raises(ValueError, match="in_channels/channels are None; model.type="
                                         "'IRSTDEncoderDecoder' fills them"):
        MODELS.build(cfg.model)


def test_training_with_cdc_as_one_conv_gives_the_difference_form_losses():
    """The fold of the central-difference convolutions in training changes the
    arithmetic, not the run: four seeded SGD steps, folded and in the difference
    form, give the same losses and weights. In float64, as rounding differences
    in float32 can flip a SeRank top-K choice and steer the runs apart."""
    torch.manual_seed(0)
    folded = build_segmentor(base_channels=4).double()
    randomise_norms_and_gammas(folded)
    difference = copy.deepcopy(folded)
    cdcs = [m for m in difference.modules() if isinstance(m, CentralDifferenceConv2d)]
    assert cdcs and all(m.foldable for m in cdcs)
    for module in cdcs:
        module.foldable = False  # the two-convolution arithmetic of the reference
    labels = torch.zeros(2, 32, 48)
    labels[:, 10:14, 20:23] = 1
    inputs = torch.randn(2, 3, 32, 48, dtype=torch.float64)
    losses = {}
    for name, model in (('folded', folded), ('difference', difference)):
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        losses[name] = []
        for _ in range(4):
            loss, _ = model.parse_losses(model.loss(inputs, make_samples(labels)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[name].append(loss.item())
    assert losses['folded'] == pytest.approx(losses['difference'], rel=1e-10)
    assert losses['folded'][-1] < losses['folded'][0]  # it trains
    for (name, got), expected in zip(folded.state_dict().items(),
                                     difference.state_dict().values()):
        assert torch.allclose(got.double(), expected.double(), rtol=1e-8, atol=1e-10), name
