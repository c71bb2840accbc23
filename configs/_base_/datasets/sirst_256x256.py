# SIRST at half the reference's size, for CPU budgets: long side rescaled to
# U(0.5, 2.0) x 256 (128-512 px; the release's images are 135-456 px wide, 96-388 high)
# and 256x256 crops, batch 4. Tests stay at native resolution. No loader
# processes: on a 2-core CPU they compete with the compute threads.
_base_ = './sirst.py'
# The pipelines are built from sizes (irstd.py says why); the import stays below
# _base_, where mmengine expects it in this config style.
from mmseg_serank.datasets.pipelines import (  # noqa: E402
    irstd_resize_to_base_pipeline,
    irstd_train_pipeline,
)

base_size = 256
crop_size = (256, 256)
train_pipeline = irstd_train_pipeline(base_size, crop_size)
test_pipeline_resize_to_base = irstd_resize_to_base_pipeline(base_size)
train_dataloader = dict(batch_size=4, num_workers=0,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0)
test_dataloader = val_dataloader
