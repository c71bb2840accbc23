# Baseline: mmseg's UNet-S5-D16 + FCN head at base width 16, on
# SIRST at 256x256 crops for 1000 iterations: a row of the README's CPU
# comparison (tools/analysis_tools/sirst_cpu_comparison.sh).
_base_ = [
    '../_base_/models/unet-s5-d16_fcn_irstd.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
log_processor = dict(by_epoch=False)
# A quarter of the stock width (base 16, 1.8 M parameters): at 64 the UNet costs
# three times SeRankDet-lite16's training time per image on a CPU.
model = dict(
    backbone=dict(base_channels=16),
    decode_head=dict(in_channels=16, channels=16),
    auxiliary_head=dict(in_channels=32, channels=16))
