# RDIAN (Sun et al., TGRS 2023) at the authors' only size: 216,758 parameters, 200 of
# them the frozen direction kernels. One grey input channel with the authors'
# normalisation: ToTensor then Normalize([-0.1246], [1.0923]), i.e.
# (x / 255 + 0.1246) / 1.0923 on 0-255 grey = (x - (-31.773)) / 278.5365; the grey
# channel is PIL's convert('L') luma, as their loader reads the images.
# BN is used because the project trains single-process on CPU; on multi-GPU set
# norm_cfg (and the backbone's attention_norm_cfg) to SyncBN with the same momentum.
norm_cfg = dict(type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
data_preprocessor = dict(
    type='IRSTDDataPreProcessor',
    grey=True,
    mean=[-0.1246 * 255],
    std=[1.0923 * 255],
    pad_val=0,
    seg_pad_val=0,  # padding is background in IRSTD, not ignore (255)
    # mmseg's stack_batch needs size or size_divisor; 1 stacks the training crops
    # as they are. Tests run at native size: RDIAN takes any H, W (its one stride-2
    # layer is undone by resizing to the input size), so nothing pads.
    size=None,
    size_divisor=1)
model = dict(
    type='IRSTDEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='RDIAN',
        in_channels=1,
        stem_channels=16,
        channels=32,
        cbam_reduction=32,
        norm_cfg=norm_cfg,
        # CBAM's spatial BN: the authors' momentum 0.01
        attention_norm_cfg=dict(type='BN', momentum=0.01, eps=1e-5, requires_grad=True),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01)),
    decode_head=dict(
        type='RDIANHead',
        in_channels=(16, 32),  # the backbone's (stem, attended) widths
        channels=8,  # the FCN block: 32 // 4
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        fuse_act_cfg=dict(type='LeakyReLU', negative_slope=0.01),
        act_cfg=dict(type='ReLU'),
        output_weights=(1.0, ),
        align_corners=False,
        # The authors' SoftLoULoss: per-image soft IoU (smooth 1), averaged.
        loss_decode=dict(type='SoftIoULoss', smooth=1.0, per_image=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
