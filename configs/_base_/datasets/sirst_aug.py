# SIRST-Aug, 256x256, no split files:
#   data/sirst_aug/{trainval,test}/{images,masks}/NAME.png.
# The SeRankDet reference packs every set this way (ROOT/{trainval,test}/{images,
# masks}, same names), so changing data_root (and base_size/crop_size) loads any
# of its copies; split selects the sub-folder.
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'SIRSTAugDataset'
data_root = 'data/sirst_aug'
base_size = 256
crop_size = (256, 256)
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
        split='trainval',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test'))
test_dataloader = val_dataloader
