# Runtime shared by every config: mmseg scope, logging, checkpoints and seeding.
custom_imports = dict(imports=['mmseg_serank'], allow_failed_imports=False)
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
# Pictures of hits / misses / false alarms (IRSTDLocalVisualizer) go to every backend here;
# add dict(type='TensorboardVisBackend') (pip install .[tensorboard]) to see them in TensorBoard.
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='IRSTDLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
# Stop at the first NaN/inf loss, before the poisoned weights reach a checkpoint;
# on --resume, validate the step whose validation an interrupted run never finished;
# check IRSTDMetric's dataset_groups against every image before a loop runs.
custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='ResumeValidationHook'),
                dict(type='CheckDatasetGroupsHook')]
# mmseg's SegTTAModel applies the sigmoid twice to one-channel outputs.
tta_model = dict(type='IRSTDTTAModel')
load_from = None
resume = False
randomness = dict(seed=42)
