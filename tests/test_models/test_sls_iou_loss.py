"""SLSIoULoss (MSHNet) against hand-computed values, and its warm-up under a runner."""
import math
import uuid

import pytest
import torch
from mmengine.logging import MessageHub

from mmseg_serank.models.losses import SLSIoULoss

THIRD = math.log(3.0)  # sigmoid(+-THIRD) = 0.75 / 0.25
OFF = -100.0  # sigmoid = 4e-44: a zero probability


def fresh_message_hub(**info) -> MessageHub:
    """A new current MessageHub (a runner's would otherwise be read), with ``info``."""
    hub = MessageHub.get_instance(f'test_sls_{uuid.uuid4().hex}')
    for key, value in info.items():
        hub.update_info(key, value)
    return hub


def square_case():
    """2x2: probabilities [[.75, .25], [.25, .25]], target at the top-left pixel.

    I = .75, P = 1.5, T = 1: IoU = .75 / 1.75 = 3/7; d = ((1.5 - 1) / 2)**2 =
    1/16, alpha = (1 + 1/16) / (1.5 + 1/16) = 0.68.
    """
    pred = torch.tensor([[[[THIRD, -THIRD], [-THIRD, -THIRD]]]])
    target = torch.tensor([[[1, 0], [0, 0]]])
    return pred, target


def test_warm_up_is_the_plain_iou_loss():
    fresh_message_hub(epoch=5)
    loss = SLSIoULoss(warm_epoch=5)
    pred, target = square_case()
    assert loss.in_warm_up()
    assert loss(pred, target).item() == pytest.approx(1 - 3 / 7, abs=1e-6)


def test_scale_weight_without_location():
    fresh_message_hub(epoch=6)
    loss = SLSIoULoss(warm_epoch=5, with_location=False)
    assert not loss.in_warm_up()
    assert loss(*square_case()).item() == pytest.approx(1 - 0.68 * 3 / 7, abs=1e-6)


def test_scale_and_location_by_hand():
    """2x4 (x / W = 0, 1/4, 1/2, 3/4; y / H = 0, 1/2): p = .75 at (y 0, x 3) and .25
    at (y 1, x 2); target at (y 1, x 2).

    I = .25, P = T = 1: IoU = 1/7, alpha = 1. Centres (means over the 8 pixels):
    prediction ((.75 * .75 + .5 * .25) / 8, .5 * .25 / 8) = (11/128, 2/128),
    target (.5 / 8, .5 / 8) = (8/128, 8/128). Angle term 4 / pi**2 *
    (atan(2/11) - pi/4)**2; length ratio sqrt(11**2 + 2**2) / (8 sqrt(2)).
    """
    fresh_message_hub()  # outside a runner: no warm-up
    pred = torch.full((1, 1, 2, 4), OFF)
    pred[0, 0, 0, 3] = THIRD
    pred[0, 0, 1, 2] = -THIRD
    target = torch.zeros(1, 2, 4, dtype=torch.long)
    target[0, 1, 2] = 1
    angle = 4 / math.pi**2 * (math.atan(2 / 11) - math.pi / 4)**2
    length = math.sqrt(11**2 + 2**2) / (8 * math.sqrt(2))
    expected = 1 - 1 / 7 + (1 - length) + angle
    loss = SLSIoULoss(warm_epoch=5, loss_weight=2.0)
    assert loss(pred, target).item() == pytest.approx(2 * expected, abs=1e-5)


def test_batch_mean_and_ignored_pixels():
    fresh_message_hub()
    pred, target = square_case()
    loss = SLSIoULoss(warm_epoch=-1, with_location=False)
    single = loss(pred, target)
    # A second image whose extra pixels are ignored scores the same.
    padded_pred = torch.cat([pred, torch.full((1, 1, 2, 1), 5.0)], dim=3)
    padded_target = torch.cat([target, torch.full((1, 2, 1), 255)], dim=2)
    both = loss(padded_pred.repeat(2, 1, 1, 1), padded_target.repeat(2, 1, 1))
    torch.testing.assert_close(both, single)


def test_warm_up_follows_the_runner_epoch_or_iteration():
    by_epoch, by_iter = SLSIoULoss(warm_epoch=5), SLSIoULoss(warm_epoch=None, warm_iter=50)
    hub = fresh_message_hub()
    assert not by_epoch.in_warm_up() and not by_iter.in_warm_up()
    hub.update_info('epoch', 0)
    hub.update_info('iter', 50)
    assert by_epoch.in_warm_up() and by_iter.in_warm_up()
    hub.update_info('epoch', 6)
    hub.update_info('iter', 51)
    assert not by_epoch.in_warm_up() and not by_iter.in_warm_up()
    with pytest.raises(ValueError, match='exactly one'):
        SLSIoULoss(warm_epoch=5, warm_iter=50)


def test_gradient_is_finite_for_an_empty_target():
    fresh_message_hub()
    pred = torch.randn(2, 1, 8, 8, requires_grad=True)
    SLSIoULoss()(pred, torch.zeros(2, 8, 8, dtype=torch.long)).backward()
    assert torch.isfinite(pred.grad).all()
