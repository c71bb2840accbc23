# ACM-U-Net at the authors' default size (BasicIRSTD's one-channel port, 0.40 M parameters)
# on SIRST at 256x256 crops for 1000 iterations: the same data, schedule and test protocol
# as serankdet-lite16_1xb4-1k_sirst-256x256.py (the README's CPU comparison).
_base_ = [
    '../_base_/models/acm.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
log_processor = dict(by_epoch=False)
