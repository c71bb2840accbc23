# NUDT-SIRST (DNANet release), 1327 images of 256x256:
#   data/nudt_sirst/images/NAME.png, data/nudt_sirst/masks/NAME.png,
#   data/nudt_sirst/50_50/{train,test}.txt.
# BasicIRSTD re-packaging (ROOT/NUDT-SIRST/{images,masks}, masks possibly .bmp,
# CRLF splits ROOT/NUDT-SIRST/img_idx/{train,test}_NUDT-SIRST.txt): set
# data_root='data/BasicIRSTD/NUDT-SIRST', ann_file='img_idx/train_NUDT-SIRST.txt'
# (resp. test_...) and seg_map_suffix=('.png', '.bmp').
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'NUDTSIRSTDataset'
data_root = 'data/nudt_sirst'
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
