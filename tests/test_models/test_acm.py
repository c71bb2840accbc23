"""ACM-U-Net (ACMResUNet + ACMHead) at the authors' default size (BasicIRSTD's port)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_serank.checkpoint import get_peer

from .conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs', 'acm', 'acm_1xb4-1k_sirst-256x256.py')
# sum(p.numel() for p in ASKCResUNet().parameters()), PEERS.md.
AUTHORS_PARAMETERS = 397_823


def build_acm() -> torch.nn.Module:
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(CONFIG).model)


def metas(height: int, width: int, batch: int):
    return [dict(img_shape=(height, width), pad_shape=(height, width),
                 ori_shape=(height, width))] * batch


def samples(labels: torch.Tensor):
    out = []
    for label in labels:
        sample = SegDataSample(metainfo=metas(*label.shape, 1)[0])
        sample.gt_sem_seg = PixelData(data=label[None].long())
        out.append(sample)
    return out


@pytest.fixture(scope='module')
def acm() -> torch.nn.Module:
    return build_acm()


@pytest.mark.parametrize('shape', [(1, 45, 71), (2, 33, 50)])
def test_logits_at_the_input_size(acm, shape):
    acm.eval()
    batch, height, width = shape
    with torch.no_grad():
        (feature, ) = acm.extract_feat(torch.randn(batch, 1, height, width))
        logits = acm.encode_decode(torch.randn(batch, 1, height, width),
                                   metas(height, width, batch))
    # One 16-wide feature at 1/4 of the input padded to a multiple of 32 (BasicIRSTD's test).
    assert feature.shape == (batch, 16, -(-height // 32) * 8, -(-width // 32) * 8)
    assert logits.shape == (batch, 1, height, width)
    assert torch.isfinite(logits).all()


def test_parameter_count_and_authors_norms(acm):
    assert sum(p.numel() for p in acm.parameters()) == AUTHORS_PARAMETERS
    backbone = acm.backbone
    # torch momentum 0.9 (MXNet's value copied literally) outside the residual blocks ...
    for norm in (backbone.input_norm, backbone.stem[0].bn, backbone.fusions[0].pooled_norm,
                 backbone.encoder[1][0].downsample[1], acm.decode_head.conv.bn):
        assert (norm.momentum, norm.eps) == (0.9, 1e-5)
    # ... torch's default 0.1 inside them (torchvision's BasicBlock).
    assert backbone.encoder[0][0].bn1.momentum == 0.1
    assert backbone.decoder[1][2].bn2.momentum == 0.1
    assert type(acm.decode_head.dropout) is torch.nn.Dropout


def test_training_step_at_batch_two():
    model = build_acm()
    model.train()
    labels = torch.zeros(2, 40, 56)
    labels[:, 10:14, 20:23] = 1
    losses = model.loss(torch.randn(2, 1, 40, 56), samples(labels))
    # One map, no deep supervision (no aux<k>_ keys).
    assert set(losses) == {'decode.loss_softiou', 'decode.acc_seg'}
    loss, _ = model.parse_losses(losses)
    loss.backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert missing == []


def test_batch_of_one_stops_with_a_clear_error_in_training_only():
    model = build_acm()
    model.train()
    labels = torch.zeros(1, 32, 32)
    with pytest.raises(ValueError, match=r'batch_size >= 2.*SyncBN'):
        model.loss(torch.randn(1, 1, 32, 32), samples(labels))
    # No layer ran: the running statistics are untouched.
    assert model.backbone.input_norm.num_batches_tracked.item() == 0
    model.eval()
    with torch.no_grad():
        assert model.encode_decode(torch.randn(1, 1, 32, 32), metas(32, 32, 1)).shape == (
            1, 1, 32, 32)


def test_grey_preprocessing_with_basicirstd_statistics(acm):
    image = torch.full((3, 8, 8), 120, dtype=torch.uint8)
    sample = SegDataSample(metainfo=metas(8, 8, 1)[0])
    data = acm.data_preprocessor(dict(inputs=[image], data_samples=[sample]), False)
    expected = (120 - 101.06385040283203) / 34.619606018066406
    assert data['inputs'].shape == (1, 1, 8, 8)
    assert torch.allclose(data['inputs'], torch.full((1, 1, 8, 8), expected))


def test_converter_names_unknown_keys():
    convert = get_peer('acm').convert
    with pytest.raises(KeyError, match='fuse3.post.0.weight'):
        convert({'stem.1.weight': torch.zeros(8, 1, 3, 3),
                 'fuse3.post.0.weight': torch.zeros(1)})
    converted = convert({'fuse1.topdown.5.running_var': torch.ones(16),
                         'uplayer2.2.bn2.bias': torch.zeros(32),
                         'head.block.4.weight': torch.zeros(1, 4, 1, 1)})
    assert list(converted) == ['backbone.fusions.1.top_down.2.bn.running_var',
                               'backbone.decoder.0.2.bn2.bias', 'decode_head.conv_seg.weight']
