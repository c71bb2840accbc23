# SeRankDet on NUAA-SIRST's 50/50 split (DNANet / BasicIRSTD: 213 train, 214 test)
# with the reference recipe otherwise (SERANKDET.md section 2): 1500 epochs, batch
# 8, 256x256 crops as DNANet trains this split; scored at native resolution. Not
# the SeRankDet paper's SIRST protocol (serankdet_1xb4-1500e_sirst-512x512.py).
_base_ = [
    '../_base_/models/serankdet.py',
    '../_base_/datasets/nuaa_sirst.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_1500e.py',
]
