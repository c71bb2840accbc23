# Baseline: mmseg's DeepLabV3+ with ResNet-18-D8, trained from scratch (IRSTD
# images are far from ImageNet, and this machine has no network).
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d8_irstd.py',
    '../_base_/datasets/sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
