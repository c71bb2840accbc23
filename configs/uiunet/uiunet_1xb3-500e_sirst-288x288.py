# UIU-Net with the authors' recipe (train.py of danfenghong/IEEE_TIP_UIU-Net): every image
# and mask resized to 320x320 (RescaleT), a vertical flip with probability 0.5 and a random
# 288x288 crop (their RandomCrop), batch 3 with the last incomplete batch dropped, 500
# epochs of Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay) at a constant
# learning rate, and the sum of seven BCE terms (the model base config). Data: SIRST
# (NUAA-SIRST, 341 train / 86 test), one of the paper's two data sets. Scored at native
# resolution; the authors' test.py scores at 320x320, selected with
#   val_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
#   test_dataloader = val_dataloader
_base_ = [
    '../_base_/models/uiunet.py',
    '../_base_/datasets/sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_500e.py',
]
resize_size = 320
crop_size = (288, 288)
train_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='ResizeToBase', base_size=resize_size),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PackSegInputs'),
]
test_pipeline_resize_to_base = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='ResizeToBase', base_size=resize_size),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=3, drop_last=True, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0))
param_scheduler = []  # constant learning rate
