# What every IRSTD data config shares: the size-free pipelines, the loaders and
# the metric. A dataset config (sirst.py, nudt_sirst.py, ...) inherits this file
# and sets only its dataset type, paths, split files, sizes and batch size.
#
# Why the two size-dependent pipelines are not written here: mmengine resolves a
# base config's variables when it parses the base, so a dataset config setting
# its own crop_size would not change a train_pipeline defined in this file, and
# mmengine cannot override one element of an inherited list. Each dataset config
# therefore builds them from its sizes with the functions in
# mmseg_serank/datasets/pipelines.py (written once there):
#   train_pipeline = irstd_train_pipeline(base_size, crop_size)
#   test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
# and passes train_pipeline to train_dataloader. The merged config (print_config,
# the copy in the work dir) holds the resulting lists, as any mmseg config does.
# To train at another size, call the same functions in your config:
#   train_dataloader = dict(dataset=dict(pipeline=irstd_train_pipeline(256, (256, 256))))
# Scored at native resolution, batch 1 (sizes may differ between images).
test_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
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
    num_workers=2,
    persistent_workers=False,
    # A last batch of one image breaks BN layers that pool to 1x1 (DeepLabV3+).
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IRSTDMetric')
test_evaluator = val_evaluator
