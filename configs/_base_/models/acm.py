# ACM-U-Net (Dai et al., WACV 2021) as BasicIRSTD ports it (ASKCResUNet() at its defaults):
# one grey input channel, widths (8, 16, 32, 64), 3 basic blocks per stage; 397,823 parameters.
# Norms are the authors': BN with torch momentum 0.9 (a literal copy of MXNet's 0.9, so the
# running statistics follow the last batches; eval outputs do not depend on it) in the input
# norm, stem, shortcuts, ACM modules and head, and torch's default 0.1 inside the residual
# blocks (torchvision's BasicBlock). On several GPUs use type='SyncBN' in both (same names).
# The ACM modules batch-normalise a 1x1 pooled map: training needs >= 2 images per GPU batch.
norm_cfg = dict(type='BN', momentum=0.9, eps=1e-5, requires_grad=True)
block_norm_cfg = dict(type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
data_preprocessor = dict(
    type='IRSTDDataPreProcessor',
    grey=True,  # PIL luma, as BasicIRSTD loads images (convert('I') of RGB goes through 'L')
    # BasicIRSTD's statistics of NUAA-SIRST (SIRST's 427 images), utils.get_img_norm_cfg.
    mean=[101.06385040283203],
    std=[34.619606018066406],
    pad_val=0,
    seg_pad_val=0,  # padding is background in IRSTD, not ignore (255)
    # Training batches are stacked after padding to a multiple of 16; tests run at
    # native size and the backbone pads itself.
    size=None,
    size_divisor=16)
model = dict(
    type='IRSTDEncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ACMResUNet',
        in_channels=1,
        widths=(8, 16, 32, 64),
        num_blocks=(3, 3, 3),
        reduction=4,
        norm_cfg=norm_cfg,
        block_norm_cfg=block_norm_cfg,
        act_cfg=dict(type='ReLU'),
        # BasicIRSTD's test pads to a multiple of 32; ACM's global attention sees the padding.
        size_divisor=32),
    decode_head=dict(
        type='ACMHead',
        in_channels=16,  # backbone widths[1]
        channels=4,  # in_channels // 4, as the authors' FCN head
        dropout_ratio=0.1,
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        output_weights=(1.0, ),  # one map, no deep supervision
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='SoftIoULoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
