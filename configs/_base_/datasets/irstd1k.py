# IRSTD-1k (ISNet release), 1001 images of 512x512:
#   data/irstd1k/IRSTD1k_Img/NAME.png, data/irstd1k/IRSTD1k_Label/NAME.png,
#   data/irstd1k/{trainval,test}.txt (800 / 201 names).
# BasicIRSTD re-packaging (ROOT/IRSTD-1K/{images,masks}, CRLF splits
# ROOT/IRSTD-1K/img_idx/{train,test}_IRSTD-1K.txt): dataset type 'IRSTDDataset',
# data_root='data/BasicIRSTD/IRSTD-1K', data_prefix=dict(img_path='images',
# seg_map_path='masks'), ann_file='img_idx/train_IRSTD-1K.txt' (resp. test_...),
# seg_map_suffix=('.png', '.bmp').
dataset_type = 'IRSTD1kDataset'
data_root = 'data/irstd1k'
base_size = 512
crop_size = (512, 512)
data_prefix = dict(img_path='IRSTD1k_Img', seg_map_path='IRSTD1k_Label')
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
        ann_file='trainval.txt',
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
        ann_file='test.txt',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IRSTDMetric')
test_evaluator = val_evaluator
