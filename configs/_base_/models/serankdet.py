# SeRankDet (Dai et al., TGRS 2024) at the reference width (base 64, 108.9 M params).
# BN is used because the project trains single-process on CPU; on multi-GPU set
# norm_cfg = dict(type='SyncBN', requires_grad=True) (parameter names are the same).
# The width is set by model.backbone.base_channels alone: IRSTDEncoderDecoder gives the
# decode head the backbone's widths (base * 2**i) when in_channels/channels are None.
norm_cfg = dict(type='BN', requires_grad=True)
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
        type='SeRankDet',
        in_channels=3,
        base_channels=64,
        topk=(512, 256, 128, 64, 32),
        pos_table_size=(512, 256, 128, 64, 32),
        attention_norm='sample',  # 'batch' reproduces the reference exactly
        cdc_theta=0.7,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU')),
    decode_head=dict(
        type='SeRankDetHead',
        in_channels=None,  # from the backbone: [base * 2**i for i in range(5)]
        channels=None,  # from the backbone: base
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        cdc_theta=0.7,
        output_weights=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='SoftIoULoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
