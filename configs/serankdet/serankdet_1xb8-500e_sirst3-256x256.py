# SeRankDet on SIRST3 (NUAA-SIRST + NUDT-SIRST + IRSTD-1k train splits pooled, as
# SCTransNet and SP-KAN train): the reference recipe with 500 epochs (the
# reference's IRSTD-1k length; 1676 training images per epoch), batch 8, 256x256
# crops; each test split scored at native resolution on its own and pooled.
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/sirst3.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_500e.py',
]
