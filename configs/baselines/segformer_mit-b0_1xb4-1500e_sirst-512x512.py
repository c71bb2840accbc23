# Baseline: mmseg's SegFormer with a MiT-B0 encoder, trained from scratch.
_base_ = [
    '../_base_/models/segformer_mit-b0_irstd.py',
    '../_base_/datasets/sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
