# SeRankDet at base width 16 (8.1 M parameters, 1/16 of the reference's
# multiply-adds per pixel) on SIRST at 256x256 crops for 1000 iterations: the
# SeRankDet row of the README's CPU comparison (tools/analysis_tools/sirst_cpu_comparison.sh).
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
model = dict(backbone=dict(base_channels=16))  # the head follows (IRSTDEncoderDecoder)
log_processor = dict(by_epoch=False)
