# IRSTD-1k (ISNet release), 1001 images of 512x512:
#   data/irstd1k/IRSTD1k_Img/NAME.png, data/irstd1k/IRSTD1k_Label/NAME.png,
#   data/irstd1k/{trainval,test}.txt (800 / 201 names).
# BasicIRSTD re-packaging (ROOT/IRSTD-1K/{images,masks}, CRLF splits
# ROOT/IRSTD-1K/img_idx/{train,test}_IRSTD-1K.txt): dataset type 'IRSTDDataset',
# data_root='data/BasicIRSTD/IRSTD-1K', data_prefix=dict(img_path='images',
# seg_map_path='masks'), ann_file='img_idx/train_IRSTD-1K.txt' (resp. test_...),
# seg_map_suffix=('.png', '.bmp').
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'IRSTD1kDataset'
data_root = 'data/irstd1k'
base_size = 512
crop_size = (512, 512)
data_prefix = dict(img_path='IRSTD1k_Img', seg_map_path='IRSTD1k_Label')
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
        ann_file='trainval.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='test.txt'))
test_dataloader = val_dataloader
