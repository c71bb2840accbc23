# SIRST / NUAA-SIRST (Dai et al., WACV 2021) in its original release layout:
#   data/sirst/images/NAME.png, data/sirst/masks/NAME_pixels0.png,
#   data/sirst/idx_427/{trainval,test}.txt (341 / 86 names).
# Link your copy there, e.g. `ln -s /path/to/sirst data/sirst`; check it with
# `python tools/dataset_converters/check_dataset.py data/sirst --layout sirst`.
# The SeRankDet reference's re-packaging (ROOT/{trainval,test}/{images,masks},
# same names) loads with dataset type 'IRSTDDataset', ann_file='' and
# data_prefix=dict(img_path='trainval/images', seg_map_path='trainval/masks')
# (resp. 'test/...'), seg_map_suffix='.png'.
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'SIRSTDataset'
data_root = 'data/sirst'
base_size = 512
crop_size = (512, 512)
data_prefix = dict(img_path='images', seg_map_path='masks')
train_pipeline = irstd_train_pipeline(base_size, crop_size)
# The reference's protocol resizes every test image to base x base and scores
# there; select it with
#   val_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
#   test_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='idx_427/trainval.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='idx_427/test.txt'))
test_dataloader = val_dataloader
