# The reference recipe (SERANKDET.md section 2): AdamW 1e-4, wd 0.01, poly 0.9
# with 5 epochs of linear warm-up, validation every epoch, best checkpoint kept
# by target IoU. schedule_500e.py / schedule_300e.py change only the length.
# fused=True: one kernel updates every parameter (the per-tensor loop was 18 % of a
# CPU training step); the same update up to float rounding.
max_epochs = 1500
warmup_epochs = 5
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01, fused=True),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='PolyLR',
        power=0.9,
        eta_min=0.0,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Writes to a temporary file and renames, prunes only after a good save:
    # a run killed mid-save never leaves a truncated checkpoint to --resume from.
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=True,
        interval=10,
        max_keep_ckpts=3,
        save_best='IRSTD/IoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Hits / misses / false alarms instead of class colours (tiny targets stay
    # visible); off unless a test is run with --show-dir.
    visualization=dict(type='IRSTDVisualizationHook'),
)
