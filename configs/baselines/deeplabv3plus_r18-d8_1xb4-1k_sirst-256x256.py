# Baseline: mmseg's DeepLabV3+ with ResNet-18-D8, trained from scratch, on
# SIRST at 256x256 crops for 1000 iterations: a row of the README's CPU
# comparison (tools/analysis_tools/sirst_cpu_comparison.sh).
_base_ = [
    '../_base_/models/deeplabv3plus_r18-d8_irstd.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
log_processor = dict(by_epoch=False)
