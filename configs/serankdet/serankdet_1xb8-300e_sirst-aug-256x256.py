# SeRankDet on SIRST-Aug with the reference recipe (SERANKDET.md section 2):
# 300 epochs, batch 8 per GPU, 256x256 training crops; scored at native resolution.
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/sirst_aug.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_300e.py',
]
train_dataloader = dict(batch_size=8)
