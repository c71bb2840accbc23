# MSHNet with the authors' recipe (Lliu666/MSHNet main.py defaults) on IRSTD-1k (trainval.txt / test.txt):
# 400 epochs, batch 4, Adagrad lr 0.05 held constant, SLS loss with 6 warm-up epochs
# (0-5: plain IoU on the d0 map only), base size 256 and 256x256 training crops,
# validation every epoch, best checkpoint by target IoU. Scored at native resolution;
# the authors resize every test image to 256x256: select test_pipeline_resize_to_base below.
_base_ = [
    '../_base_/models/mshnet.py',
    '../_base_/datasets/irstd1k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
# The pipelines are built from sizes (configs/_base_/datasets/irstd.py says why); the
# import stays below _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

base_size = 256
crop_size = (256, 256)
test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
train_dataloader = dict(
    batch_size=4, dataset=dict(pipeline=irstd_train_pipeline(base_size, crop_size)))
max_epochs = 400
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(_delete_=True, type='Adagrad', lr=0.05))
param_scheduler = []  # the authors keep the learning rate constant
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
