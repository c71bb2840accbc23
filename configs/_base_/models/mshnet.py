# MSHNet (Liu et al., CVPR 2024) at the authors' default: MSHNet(3), widths 16-256,
# 4,065,513 parameters. RGB input normalised with ImageNet mean/std, as the authors'
# loader (PIL RGB, ToTensor, Normalize). BN as the authors' (PyTorch defaults); on
# multi-GPU set norm_cfg = dict(type='SyncBN', requires_grad=True) (same parameter names).
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
        type='MSHNet',
        in_channels=3,
        widths=(16, 32, 64, 128, 256),
        num_blocks=(2, 2, 2, 2),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU')),
    decode_head=dict(
        type='MSHNetHead',
        in_channels=None,  # from the backbone: the decoder widths (16, 32, 64, 128)
        channels=None,  # from the backbone: 16
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        # The authors average the losses of the four scale maps and the fused map.
        output_weights=(0.2, 0.2, 0.2, 0.2, 0.2),
        norm_cfg=norm_cfg,
        align_corners=True,
        # The authors' SLS loss; epochs 0-5 are warm-up (plain IoU on the d0 map only).
        # Iteration-based schedules set warm_epoch=None and warm_iter instead.
        loss_decode=dict(type='SLSIoULoss', warm_epoch=5, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# During the warm-up the fused map and the coarse heads get no gradient (as in the
# authors' code), which DistributedDataParallel must be told about.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
