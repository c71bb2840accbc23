# SCTransNet (Yuan et al., TGRS 2024) at the authors' default size: base width 32,
# patch sizes 16/8/4/2, four SCTBs, one grey input channel; 11,325,939 parameters
# (the authors' count, including their unused positional embeddings and scalars).
# Backbone and head initialise their layers as the authors' weights_init_kaiming
# (init_cfg=None). BN as the authors' (momentum 0.1, eps 1e-5); on multi-GPU set
# norm_cfg = dict(type='SyncBN', momentum=0.1, eps=1e-5, requires_grad=True).
norm_cfg = dict(type='BN', momentum=0.1, eps=1e-5, requires_grad=True)
data_preprocessor = dict(
    type='IRSTDDataPreProcessor',
    grey=True,  # one channel, as the authors read images (PIL grey)
    # BasicIRSTD's normalisation of NUAA-SIRST (SIRST v1), which SCTransNet also
    # uses for SIRST3 (get_img_norm_cfg); other data sets: their own statistics.
    mean=[101.06385040283203],
    std=[34.619606018066406],
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
        type='SCTransNet',
        in_channels=1,
        base_channels=32,
        patch_sizes=(16, 8, 4, 2),
        num_layers=4,
        ffn_expansion=2.66,
        img_size=256,  # sizes only the unused positional embeddings
        embed_dropout=0.1,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01)),
    decode_head=dict(
        type='SCTransNetHead',
        in_channels=None,  # from the backbone: [base, 2, 4, 8, 8 x base]
        channels=None,  # from the backbone: base
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        # [side(e5), side(d4), side(d3), side(d2), fused, prediction], summed
        # with weight 1 as the authors' training loss.
        output_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        norm_cfg=norm_cfg,
        align_corners=False,
        # The authors' loss: BCE on the sigmoid of each map (nn.BCELoss, mean).
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
