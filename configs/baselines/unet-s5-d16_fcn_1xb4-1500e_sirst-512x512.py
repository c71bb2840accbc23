# Baseline: mmseg's UNet-S5-D16 + FCN head.
_base_ = [
    '../_base_/models/unet-s5-d16_fcn_irstd.py',
    '../_base_/datasets/sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
