# NUAA-SIRST (the 427 SIRST images) with the 50/50 split that DNANet and
# BasicIRSTD distribute (213 train / 214 test), not SIRST's own idx_427 split:
#   DNANet release: data/nuaa_sirst/images/NAME.png, data/nuaa_sirst/masks/NAME.png
#   (masks renamed to the image names), data/nuaa_sirst/50_50/{train,test}.txt.
# BasicIRSTD re-packaging (ROOT/NUAA-SIRST/{images,masks}, CRLF splits
# ROOT/NUAA-SIRST/img_idx/{train,test}_NUAA-SIRST.txt): set
# data_root='data/BasicIRSTD/NUAA-SIRST' and ann_file='img_idx/train_NUAA-SIRST.txt'
# (resp. test_...). Numbers on this split are not comparable with SIRST's idx_427
# ones (the SeRankDet paper's), which train on 341 images and test on 86.
# DNANet packs it exactly as NUDT-SIRST (same folders and split files) and trains
# both at 256, so everything but the type and root comes from nudt_sirst.py.
_base_ = './nudt_sirst.py'
dataset_type = 'IRSTDDataset'
data_root = 'data/nuaa_sirst'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
