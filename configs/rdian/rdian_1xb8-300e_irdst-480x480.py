# RDIAN with the authors' recipe (sun11999/RDIAN train.py / test.py) on their IRDST data
# set (real, single-frame version, http://xzbai.buaa.edu.cn/datasets.html):
# batch 8, 300 epochs, Adagrad lr 0.005 weight decay 1e-4, poly 0.9 decay per epoch to
# 1e-6, per-image soft IoU loss; train crops: flip, long side U(0.5, 2.0) x 512,
# zero-pad to 480, random 480x480 crop (no blur); the authors test every image resized to
# 512x512 (test_pipeline_resize_to_base below); this config scores at native resolution
# like every config here. Validated every epoch, best target IoU kept.
# IRDST is not one of this project's data sets; it loads with the generic IRSTDDataset:
#   data/irdst/images/<seq>/<name>.bmp, data/irdst/masks/<seq>/<name>.bmp,
#   data/irdst/{train,test}.txt = the authors' datasets/real/{train,test}.txt (32,523 /
#   8,130 names such as /41/1(297)) with the leading '/' removed:
#   sed 's#^/##' RDIAN/datasets/real/train.txt > data/irdst/train.txt
_base_ = [
    '../_base_/models/rdian.py',
    '../_base_/datasets/irstd.py',
    '../_base_/default_runtime.py',
]
# The resize-to-base test pipeline is built from the base size (irstd.py says why);
# the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import irstd_resize_to_base_pipeline  # noqa: E402

dataset_type = 'IRSTDDataset'
data_root = 'data/irdst'
base_size = 512
crop_size = (480, 480)
data_prefix = dict(img_path='images', seg_map_path='masks')
suffixes = dict(img_suffix=('.bmp', '.png'), seg_map_suffix=('.bmp', '.png'))
train_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadIRAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomRescaleLongSide', base_size=base_size, ratio_range=(0.5, 2.0)),
    dict(type='PadToMinSize', size=crop_size, pad_val=0, seg_pad_val=0),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='PackSegInputs'),
]
# The authors' protocol in a config inheriting this one:
# val_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='train.txt',
        pipeline=train_pipeline,
        **suffixes))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='test.txt',
        pipeline={{_base_.test_pipeline}},
        **suffixes))
test_dataloader = val_dataloader

# train.py: lr = (1 - e / (300 + 1))**0.9 * (0.005 - 1e-6) + 1e-6 during epoch e + 1
# (e = 0, 1, ...), set once per epoch: PolyLR by epoch over 301 epochs.
max_epochs = 300
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adagrad', lr=0.005, weight_decay=1e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=True, begin=0,
         end=max_epochs + 1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=3, save_best='IRSTD/IoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IRSTDVisualizationHook'),
)
