# A short iteration-based schedule for CPU comparisons (the README's SIRST table;
# tools/analysis_tools/benchmark_models.py gives every model the same budget): AdamW at
# 1e-3, ten times the reference's 1e-4 for a budget under 1 % of its 1500 epochs,
# 50 iterations of linear warm-up, poly 0.9 decay to zero, validation at the end.
# fused=True: one kernel updates every parameter (see schedule_1500e.py).
max_iters = 1000
warmup_iters = 50
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01, fused=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=warmup_iters,
         end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=250,
                    max_keep_ckpts=2, save_best='IRSTD/IoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='IRSTDVisualizationHook'),
)
