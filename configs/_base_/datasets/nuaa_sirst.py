# NUAA-SIRST (the 427 SIRST images) with the 50/50 split that DNANet and
# BasicIRSTD distribute (213 train / 214 test), not SIRST's own idx_427 split:
#   DNANet release: data/nuaa_sirst/images/NAME.png, data/nuaa_sirst/masks/NAME.png
#   (masks renamed to the image names), data/nuaa_sirst/50_50/{train,test}.txt.
# BasicIRSTD re-packaging (ROOT/NUAA-SIRST/{images,masks}, CRLF splits
# ROOT/NUAA-SIRST/img_idx/{train,test}_NUAA-SIRST.txt): set
# data_root='data/BasicIRSTD/NUAA-SIRST' and ann_file='img_idx/train_NUAA-SIRST.txt'
# (resp. test_...). Numbers on this split are not comparable with SIRST's idx_427
# ones (the SeRankDet paper's), which train on 341 images and test on 86.
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'IRSTDDataset'
data_root = 'data/nuaa_sirst'
# DNANet and BasicIRSTD train NUAA-SIRST at 256.
base_size = 256
crop_size = (256, 256)
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
        ann_file='50_50/train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='50_50/test.txt'))
test_dataloader = val_dataloader
