# DNANet (Li et al., IEEE TIP 2023) as the authors train it by default: three input channels
# (RGB, ImageNet mean/std), widths (16, 32, 64, 128, 256) ('three'), two Res-CBAM blocks per
# deep node ('resnet_18'), deep supervision with four outputs whose SoftIoU losses are averaged,
# final4 predicting (4,696,888 parameters).
# BN as PyTorch's default (momentum 0.1, eps 1e-5); on multi-GPU set
# norm_cfg = dict(type='SyncBN', requires_grad=True) (parameter names are the same).
# BasicIRSTD's one-channel port (model/DNANet) has the same layers: its weights load with
#   model.backbone.in_channels=1 and a grey IRSTDDataPreProcessor (configs/dnanet/README.md).
norm_cfg = dict(type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
# The authors initialise every conv weight with Xavier-normal (weights_init_xavier); their conv
# biases keep PyTorch's default, here they start at zero.
conv_init = dict(type='Xavier', distribution='normal', layer='Conv2d')
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=0,  # padding is background in IRSTD, not ignore (255)
    # Training batches are stacked after padding to a multiple of 16 (a no-op
    # for the usual crops); tests run at native size, the backbone pads itself.
    size=None,
    size_divisor=16)
model = dict(
    type='IRSTDEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DNANet',
        in_channels=3,
        widths=(16, 32, 64, 128, 256),
        num_blocks=(2, 2, 2, 2),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        size_divisor=16,  # the backbone pads H, W to a multiple (32: BasicIRSTD's test)
        init_cfg=conv_init),
    decode_head=dict(
        type='DNANetHead',
        in_channels=None,  # from the backbone: 4 x widths[0], then widths[1:]
        channels=None,  # from the backbone: widths[0]
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        output_weights=(0.25, 0.25, 0.25, 0.25),
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='SoftIoULoss', loss_weight=1.0),
        init_cfg=conv_init),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
