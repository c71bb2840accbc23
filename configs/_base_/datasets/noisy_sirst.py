# NoisySIRST (GrokCV): SIRST with added sensor noise. Assumed layout: that of
# SIRST (data/noisy_sirst/images/NAME.png, masks/NAME_pixels0.png,
# idx_427/{trainval,test}.txt). The copy linked from the SeRankDet reference
# README is packed as ROOT/{trainval,test}/{images,masks} with same names; for it
# use dataset type 'IRSTDDataset', ann_file='' and data_prefix=dict(
# img_path='trainval/images', seg_map_path='trainval/masks') (resp. 'test/...').
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'NoisySIRSTDataset'
data_root = 'data/noisy_sirst'
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
