# Baseline: mmseg's UNet-S5-D16 + FCN head.
# The one-channel IRSTD form shared by its configs.
_base_ = ['mmseg::_base_/models/fcn_unet_s5-d16.py']
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
    decode_head=dict(**one_channel),
    # The auxiliary head only trains; its threshold is the decode head's value.
    auxiliary_head=dict(
        one_channel, loss_decode=dict(_delete_=True, type='SoftIoULoss', loss_weight=0.4)),
    test_cfg=dict(_delete_=True, mode='whole'),
)
