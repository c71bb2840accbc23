# SCTransNet at the authors' default size (11.3 M parameters, one grey channel) on
# SIRST at 256x256 crops for 1000 iterations: the same data, schedule and test
# protocol as configs/serankdet/serankdet-lite16_1xb4-1k_sirst-256x256.py.
_base_ = [
    '../_base_/models/sctransnet.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
log_processor = dict(by_epoch=False)
