# UIU-Net (Wu, Hong and Chanussot, TIP 2023) as the authors build it: UIUNET(3, 1),
# 50,541,461 parameters, three input channels. The authors' ToTensorLab(flag=0) scales
# each image by its own maximum and normalises with the ImageNet mean/std in RGB order;
# here the usual fixed 0-255 scaling does it (the same for images whose maximum is 255).
# BN is PyTorch's default (momentum 0.1, eps 1e-5) as in the authors' code; on multi-GPU
# set norm_cfg = dict(type='SyncBN', requires_grad=True) (parameter names are the same).
# A training batch of 1 per process stops with an error (BN after a 1x1 global pooling).
# Loss: the authors' muti_bce_loss_fusion, the sum of seven equal BCE terms (the fused
# map d0 and the side maps d1..d6), as sigmoid cross-entropy on each logit map.
norm_cfg = dict(type='BN', requires_grad=True, momentum=0.1, eps=1e-5)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=0,  # padding is background in IRSTD, not ignore (255)
    # Training batches of unequal crops are stacked after padding to a multiple of 32
    # (a no-op for the usual square crops); tests run at native size: the network takes
    # any H, W (ceil-mode pooling, every resize targets the skip's size).
    size=None,
    size_divisor=32)
model = dict(
    type='IRSTDEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='UIUNet',
        in_channels=3,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU')),
    decode_head=dict(
        type='UIUNetHead',
        in_channels=(64, 64, 128, 256, 512, 512),
        channels=6,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        # [d1, ..., d6, fused d0]: the authors sum the seven BCE terms unweighted.
        output_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, avg_non_ignore=True,
                         loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
