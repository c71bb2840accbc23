# Baseline: mmseg's SegFormer with a MiT-B0 encoder, trained from scratch, on
# SIRST at 256x256 crops for 1000 iterations: a row of the README's CPU
# comparison (tools/analysis_tools/sirst_cpu_comparison.sh).
_base_ = [
    '../_base_/models/segformer_mit-b0_irstd.py',
    '../_base_/datasets/sirst_256x256.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1k.py',
]
log_processor = dict(by_epoch=False)
