# SeRankDet on NoisySIRST with the reference recipe (SERANKDET.md section 2):
# 1500 epochs, batch 4 per GPU, 512x512 training crops; scored at native resolution.
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/noisy_sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
train_dataloader = dict(batch_size=4)
