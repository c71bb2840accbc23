# DNANet as its authors train it on NUAA-SIRST's 50/50 split (their README's train command
# and train.py): 1500 epochs, batch 16, long side rescaled to U(0.5, 2.0) x 256 and 256x256
# crops (flip, Gaussian blur), SoftIoU averaged over the four deep-supervision outputs,
# Adagrad at lr 0.05, validated every epoch with the best target IoU kept.
# Their CosineAnnealingLR(T_max=epochs, eta_min=1e-5) is stepped once, before the first
# epoch, and never again, so the rate stays at 0.05 * (1 + cos(pi / 1500)) / 2 ~ 0.05 for the
# whole run: no schedule here. Their conv weights start Xavier-normal (the model base config).
# Scored at native resolution; the authors resize every test image to 256x256 (see README.md).
_base_ = [
    '../_base_/models/dnanet.py',
    '../_base_/datasets/nuaa_sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
train_dataloader = dict(batch_size=16)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='Adagrad', lr=0.05))
param_scheduler = []
