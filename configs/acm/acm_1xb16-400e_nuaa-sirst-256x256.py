# BasicIRSTD's recipe (XinyiYing/BasicIRSTD train.py defaults with its Adam branch), which
# gives the ACM row of its benchmark table: ASKCResUNet() (this project's default ACM) on
# NUAA-SIRST's 50/50 split (213 train / 214 test), one grey channel normalised with its
# NUAA-SIRST statistics, 256x256 crops, batch 16, 400 epochs, Adam lr 5e-4, MultiStepLR x0.1
# at epochs 200 and 300, SoftIoU loss, tested every 50 epochs at native resolution
# (threshold 0.5). Crops differ: BasicIRSTD crops 256x256 without rescaling (a target in the
# crop with probability 0.5) and flips / transposes; here the project's pipeline for this
# split (flip, long side U(0.5, 2.0) x 256, crop, blur) is used.
_base_ = [
    '../_base_/models/acm.py',
    '../_base_/datasets/nuaa_sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
train_dataloader = dict(batch_size=16)
max_epochs = 400
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.0))
param_scheduler = [
    dict(type='MultiStepLR', milestones=[200, 300], gamma=0.1, by_epoch=True, begin=0,
         end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=50)
