# The reference recipe of schedule_1500e.py, 300 epochs long.
_base_ = ['./schedule_1500e.py']
max_epochs = 300
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end={{_base_.warmup_epochs}}, convert_to_iter_based=True),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True,
         begin={{_base_.warmup_epochs}}, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
