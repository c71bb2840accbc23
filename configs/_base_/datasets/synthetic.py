# Synthetic IRSTD scenes from tools/misc/make_synthetic_dataset.py, in the project's
# generic layout: data/synthetic_irstd/images/NAME.png, masks/NAME.png (same
# names), splits/{train,test}.txt. Make them with
#   python tools/misc/make_synthetic_dataset.py data/synthetic_irstd
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'IRSTDDataset'
data_root = 'data/synthetic_irstd'
base_size = 128
crop_size = (128, 128)
data_prefix = dict(img_path='images', seg_map_path='masks')
train_pipeline = irstd_train_pipeline(base_size, crop_size)
# The reference's protocol resizes every test image to base x base and scores
# there; select it with
#   val_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
#   test_dataloader = dict(dataset=dict(pipeline=test_pipeline_resize_to_base))
test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='splits/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='splits/test.txt'))
test_dataloader = val_dataloader
