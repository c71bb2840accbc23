# MSHNet at the authors' default size (4.07 M parameters) on SIRST at 256x256 crops for
# 1000 iterations: the same data, schedule and test protocol as
# configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py. The SLS loss warms up for
# iterations 0-50 (the schedule's LR warm-up), since an iteration loop has no epochs.
_base_ = [
    '../_base_/models/mshnet.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
model = dict(
    decode_head=dict(loss_decode=dict(type='SLSIoULoss', warm_epoch=None, warm_iter=50)))
log_processor = dict(by_epoch=False)
