# SeRankDet on IRSTD-1k with the reference recipe (SERANKDET.md section 2):
# 500 epochs, batch 4 per GPU, 512x512 training crops; scored at native resolution.
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/irstd1k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_500e.py',
]
train_dataloader = dict(batch_size=4)
