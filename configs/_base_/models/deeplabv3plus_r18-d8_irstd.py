# Baseline: mmseg's DeepLabV3+ with ResNet-18-D8, trained from scratch (IRSTD
# images are far from ImageNet, and this machine has no network).
# The one-channel IRSTD form shared by its configs.
_base_ = ['mmseg::_base_/models/deeplabv3plus_r50-d8.py']
# One-channel output with sigmoid + threshold, SoftIoU loss, background padding:
# trained and scored exactly like SeRankDet (same data, loss, IRSTDMetric).
one_channel = dict(
    num_classes=2, out_channels=1, threshold=0.5,
    loss_decode=dict(_delete_=True, type='SoftIoULoss', loss_weight=1.0))
model = dict(
    # Native-resolution testing: pad each test image to a multiple of 32 for
    # the stock encoder; the segmentor crops the padding off again.
    data_preprocessor=dict(seg_pad_val=0, size=None, size_divisor=32,
                           test_cfg=dict(size_divisor=32)),
    pretrained=None,
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128, c1_in_channels=64,
                     c1_channels=12, **one_channel),
    # The auxiliary head only trains; its threshold is the decode head's value.
    auxiliary_head=dict(
        one_channel, in_channels=256, channels=64,
        loss_decode=dict(_delete_=True, type='SoftIoULoss', loss_weight=0.4)),
)
