"""MSHNet port: sizes, deep supervision at each scale, warm-up and parameter count."""
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.models.decode_heads.mshnet_head import label_at_stride

from .conftest import REPO_ROOT

CONFIG = REPO_ROOT + '/configs/mshnet/mshnet_1xb4-1k_sirst-256x256.py'
# sum(p.numel()) of the authors' MSHNet(3) (docs/PEERS.md).
AUTHORS_PARAMETERS = 4_065_513
SCALE_KEYS = ['aux1_loss_slsiou', 'aux2_loss_slsiou', 'aux3_loss_slsiou', 'aux4_loss_slsiou']


def fresh_message_hub(**info) -> MessageHub:
    """A new current MessageHub (a runner's would otherwise be read), with ``info``."""
    hub = MessageHub.get_instance(f'test_mshnet_{uuid.uuid4().hex}')
    for key, value in info.items():
        hub.update_info(key, value)
    return hub


@pytest.fixture(scope='module')
def segmentor() -> torch.nn.Module:
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(CONFIG).model)


def metas(height: int, width: int, batch: int):
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


def test_parameter_count_is_the_authors(segmentor):
    assert sum(p.numel() for p in segmentor.parameters()) == AUTHORS_PARAMETERS


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50)])
def test_any_input_size_gives_input_sized_logits(segmentor, shape):
    batch, height, width = shape
    segmentor.eval()
    with torch.no_grad():
        features = segmentor.extract_feat(torch.randn(batch, 3, height, width))
        logits = segmentor.encode_decode(torch.randn(batch, 3, height, width),
                                         metas(height, width, batch))
    padded = [-(-s // 16) * 16 for s in (height, width)]
    assert [tuple(f.shape[1:]) for f in features] == [
        (16 * 2**i, padded[0] >> i, padded[1] >> i) for i in range(4)]
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


def test_label_at_stride_keeps_one_pixel_targets():
    label = torch.zeros(1, 1, 33, 50, dtype=torch.long)
    label[0, 0, 32, 49] = 1  # in the last, partial window of every stride
    for stride in (1, 2, 4, 8):
        pooled = label_at_stride(label, stride)
        assert pooled.shape == (1, -(-33 // stride), -(-50 // stride))
        assert pooled.sum() == 1 and pooled[0, -1, -1] == 1


def training_losses(segmentor, batch: int, height: int = 32, width: int = 32):
    segmentor.train()
    labels = torch.zeros(batch, height, width)
    labels[:, 10:14, 20:23] = 1  # a 4x3 target
    losses = segmentor.loss(torch.randn(batch, 3, height, width), make_samples(labels))
    loss, _ = segmentor.parse_losses(losses)
    segmentor.zero_grad()
    loss.backward()
    return losses


def test_training_step_scores_every_scale_after_the_warm_up(segmentor):
    fresh_message_hub(iter=51)  # the 1k config warms up for iterations 0-50
    losses = training_losses(segmentor, batch=2)
    assert sorted(losses) == sorted(f'decode.{key}' for key in
                                   SCALE_KEYS + ['loss_slsiou', 'acc_seg'])
    head = segmentor.decode_head
    assert head.fusion_conv.weight.grad.abs().sum() > 0
    assert all(conv.weight.grad.abs().sum() > 0 for conv in head.scale_convs)


def test_warm_up_trains_only_the_full_resolution_map(segmentor):
    fresh_message_hub(iter=50)
    losses = training_losses(segmentor, batch=2)
    assert sorted(losses) == ['decode.acc_seg', 'decode.aux1_loss_slsiou']
    head = segmentor.decode_head
    assert head.scale_convs[0].weight.grad.abs().sum() > 0
    assert head.fusion_conv.weight.grad is None
    assert all(conv.weight.grad is None for conv in head.scale_convs[1:])


def test_batch_of_one_trains(segmentor):
    fresh_message_hub(iter=100)
    losses = training_losses(segmentor, batch=1)
    assert torch.isfinite(losses['decode.loss_slsiou'])


def test_each_map_is_scored_against_the_label_pooled_to_its_scale(segmentor):
    fresh_message_hub()  # outside a runner: no warm-up
    head = segmentor.decode_head
    labels = torch.zeros(2, 40, 56)
    labels[0, 9, 21] = 1
    labels[1, 30:33, 5:9] = 1
    maps = [torch.randn(2, 1, 48 // s, 64 // s) for s in (1, 2, 4, 8, 1)]
    losses = head.loss_by_feat(maps, make_samples(labels))
    for key, output, stride in zip(SCALE_KEYS + ['loss_slsiou'], maps, head.strides):
        label = label_at_stride(labels.long()[:, None], stride)
        expected = 0.2 * head.loss_decode(output[..., :label.shape[1], :label.shape[2]],
                                          label)
        torch.testing.assert_close(losses[key], expected)


def test_the_fused_map_alone_is_scored_at_full_resolution(segmentor):
    fresh_message_hub()
    head = segmentor.decode_head
    labels = torch.zeros(1, 20, 24)
    labels[0, 3:5, 7:9] = 1
    fused = torch.randn(1, 1, 32, 32)
    losses = head.loss_by_feat(fused, make_samples(labels))
    assert sorted(losses) == ['acc_seg', 'loss_slsiou']
    expected = 0.2 * head.loss_decode(fused[..., :20, :24], labels.long())
    torch.testing.assert_close(losses['loss_slsiou'], expected)
