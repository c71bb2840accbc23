# NoisySIRST (GrokCV): SIRST with added sensor noise. Assumed layout: that of
# SIRST (data/noisy_sirst/images/NAME.png, masks/NAME_pixels0.png,
# idx_427/{trainval,test}.txt). The copy linked from the SeRankDet reference
# README is packed as ROOT/{trainval,test}/{images,masks} with same names; for it
# use dataset type 'IRSTDDataset', ann_file='' and data_prefix=dict(
# img_path='trainval/images', seg_map_path='trainval/masks') (resp. 'test/...').
dataset_type = 'NoisySIRSTDataset'
data_root = 'data/noisy_sirst'
base_size = 512
crop_size = (512, 512)
data_prefix = dict(img_path='images', seg_map_path='masks')
# Reference augmentation (SERANKDET.md section 2): flip, long side U(0.5, 2.0) x base,
# background padding to the crop, random crop, Gaussian blur p 0.5 radius U(0, 1).
train_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRescaleLongSide', base_size=base_size, ratio_range=(0.5, 2.0)),
    dict(type='PadToMinSize', size=crop_size, pad_val=0, seg_pad_val=0),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
    dict(type='PackSegInputs'),
]
# Scored at native resolution, batch 1 (sizes may differ between images).
test_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='PackSegInputs'),
]
# The reference's protocol resizes every test image to base x base and scores
# there; select it with
#   val_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
#   test_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
test_pipeline_resize_to_base = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='ResizeToBase', base_size=base_size),
    dict(type='PackSegInputs'),
]
# Test-time augmentation (tools/test.py --tta): the image and its horizontal
# and vertical flips, probabilities averaged by IRSTDTTAModel (default_runtime).
tta_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='vertical')],
            [dict(type='LoadIRAnnotations')],
            [dict(type='PackSegInputs')],
        ])
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    # A last batch of one image breaks BN layers that pool to 1x1 (DeepLabV3+).
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='idx_427/trainval.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='idx_427/test.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IRSTDMetric')
test_evaluator = val_evaluator
