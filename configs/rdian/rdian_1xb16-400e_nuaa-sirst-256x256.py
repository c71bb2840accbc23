# RDIAN on NUAA-SIRST's 50/50 split with the recipe under which BasicIRSTD
# (XinyiYing/BasicIRSTD train.py) reports it: batch 16, 256x256 crops, 400 epochs, Adam
# lr 5e-4, lr x0.1 after epochs 200 and 300, soft IoU over the whole batch, threshold
# 0.5, scored at native resolution. Differences kept from this project: the model's
# input is the RDIAN authors' grey normalisation (BasicIRSTD normalises each data set
# with its own mean/std) and the crops come from the project's pipeline (BasicIRSTD
# centres half of its crops on a target and adds flips and transposes).
_base_ = [
    '../_base_/models/rdian.py',
    '../_base_/datasets/nuaa_sirst.py',
    '../_base_/default_runtime.py',
]
model = dict(decode_head=dict(loss_decode=dict(per_image=False)))
train_dataloader = dict(batch_size=16)

max_epochs = 400
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[200, 300], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=3, save_best='IRSTD/IoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IRSTDVisualizationHook'),
)
