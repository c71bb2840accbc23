# SIRST3, the joint set of SCTransNet and SP-KAN: the train splits of NUAA-SIRST
# (50/50), NUDT-SIRST (50/50) and IRSTD-1k pooled (213 + 663 + 800 images), tested
# on their three test splits (214 + 664 + 201), each scored on its own as well as
# pooled. BasicIRSTD's layout, as those projects read it:
#   data/SIRST3/images/NAME.png, data/SIRST3/masks/NAME.png (or .bmp),
#   data/SIRST3/img_idx/{train,test}_SIRST3.txt (CRLF line ends are fine).
# Names tell the data sets apart: Misc_N (NUAA-SIRST), six digits (NUDT-SIRST),
# XDUN (IRSTD-1k); dataset_groups below scores each. To pool the separate
# releases instead, give train_dataloader.dataset a ConcatDataset of the three
# dataset configs (nuaa_sirst.py, nudt_sirst.py, irstd1k.py, train splits).
_base_ = './irstd.py'
# The train and resize-to-base pipelines are built from this file's sizes (irstd.py
# says why); the import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

dataset_type = 'IRSTDDataset'
data_root = 'data/SIRST3'
# SCTransNet trains SIRST3 on 256x256 patches; IRSTD-1k's 512x512 images are
# rescaled like the others (long side U(0.5, 2.0) x 256). Tests run at native size.
base_size = 256
crop_size = (256, 256)
data_prefix = dict(img_path='images', seg_map_path='masks')
suffixes = dict(img_suffix=('.png', '.bmp'), seg_map_suffix=('.png', '.bmp'))
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
        ann_file='img_idx/train_SIRST3.txt',
        pipeline=train_pipeline,
        **suffixes))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='img_idx/test_SIRST3.txt',
        **suffixes))
test_dataloader = val_dataloader
# Pooled scores (IRSTD/IoU, ..., used for the best checkpoint) and each data
# set's own (IRSTD/NUAA-SIRST/IoU, IRSTD/NUDT-SIRST/IoU, IRSTD/IRSTD-1k/IoU, ...).
val_evaluator = dict(
    type='IRSTDMetric',
    dataset_groups={'NUAA-SIRST': r'Misc_\d+\.\w+$', 'NUDT-SIRST': r'(^|/)\d{6}\.\w+$',
                    'IRSTD-1k': r'XDU\d+\.\w+$'})
test_evaluator = val_evaluator
