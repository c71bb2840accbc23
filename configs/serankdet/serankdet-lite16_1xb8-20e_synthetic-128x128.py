# The CPU demo (`make demo`): a light SeRankDet (base width 16, 1/16 of the
# reference's multiply-adds per pixel) trained on the synthetic IRSTD set made by
# tools/make_synthetic_dataset.py, 128x128 images, 20 epochs, batch 8.
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
model = dict(backbone=dict(base_channels=16))  # the head follows (IRSTDEncoderDecoder)
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
# A small model on easy data can learn faster than the reference's 1e-4.
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
train_dataloader = dict(batch_size=8, num_workers=2)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
