import pytest
import torch

from mmseg_serank.models.losses import SoftIoULoss


def hand_soft_iou(probabilities, targets, smooth=1.0):
    intersection = sum(p * t for p, t in zip(probabilities, targets))
    union = sum(probabilities) + sum(targets) - intersection
    return 1.0 - (intersection + smooth) / (union + smooth)


def test_soft_iou_whole_batch_matches_hand_computation():
    logits = torch.tensor([0.0, 2.0, -1.0, 0.5, 1.0, -3.0]).view(2, 1, 1, 3)
    target = torch.tensor([0, 1, 0, 1, 1, 0]).view(2, 1, 3)
    probs = torch.sigmoid(logits).flatten().tolist()
    expected = hand_soft_iou(probs, target.flatten().tolist())
    loss = SoftIoULoss()(logits, target)
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert SoftIoULoss().loss_name == 'loss_softiou'


def test_soft_iou_per_image_and_weight():
    logits = torch.tensor([0.0, 2.0, -1.0, 0.5, 1.0, -3.0]).view(2, 1, 1, 3)
    target = torch.tensor([0, 1, 0, 1, 1, 0]).view(2, 1, 3)
    probs = torch.sigmoid(logits).flatten().tolist()
    labels = target.flatten().tolist()
    expected = (hand_soft_iou(probs[:3], labels[:3]) +
                hand_soft_iou(probs[3:], labels[3:])) / 2
    loss = SoftIoULoss(per_image=True, loss_weight=2.0)(logits, target)
    assert loss.item() == pytest.approx(2.0 * expected, abs=1e-6)


def test_soft_iou_excludes_ignored_pixels():
    logits = torch.tensor([3.0, -2.0, 5.0, 0.0]).view(1, 1, 2, 2)
    target = torch.tensor([1, 0, 255, 255]).view(1, 2, 2)
    probs = torch.sigmoid(logits).flatten().tolist()[:2]
    expected = hand_soft_iou(probs, [1, 0])
    loss = SoftIoULoss()(logits, target, ignore_index=255)
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_soft_iou_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match='differ in shape'):
        SoftIoULoss()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 4, 5, dtype=torch.long))


def test_soft_iou_half_precision_logits_give_the_float32_loss():
    """Under AMP the head hands over float16 logits; the sums over a 4 x 512 x 512
    batch exceed float16's range, which made the loss 1 and its gradient zero."""
    torch.manual_seed(0)
    logits = torch.randn(4, 1, 512, 512) + 2.0
    target = (torch.rand(4, 512, 512) > 0.5).long()
    expected = SoftIoULoss()(logits, target)
    half = logits.half().requires_grad_()
    loss = SoftIoULoss()(half, target)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected.item(), abs=1e-3)
    loss.backward()
    assert torch.isfinite(half.grad).all() and half.grad.abs().sum() > 0
