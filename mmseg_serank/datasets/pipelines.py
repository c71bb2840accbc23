"""The two size-dependent IRSTD pipelines, built from the sizes a data config sets.

mmengine (0.10) resolves a base config's variables when it parses that base, so a
dataset config that inherits ``configs/_base_/datasets/irstd.py`` and sets its own
``crop_size`` cannot change a pipeline written there. Each dataset config calls
these functions with its sizes instead; the pipelines themselves are written once.
The result is plain config data (lists of dicts), so ``Config.dump`` and the
work-dir copy of a config hold the pipelines and load without this module.
"""
from typing import List, Sequence


def irstd_train_pipeline(base_size: int, crop_size: Sequence[int]) -> List[dict]:
    """The reference augmentation (SERANKDET.md section 2) around ``base_size``.

    Flip, long side U(0.5, 2.0) x ``base_size``, background padding to the crop,
    random ``crop_size`` crop, Gaussian blur p 0.5 radius U(0, 1).
    """
    crop_size = tuple(crop_size)
    return [
        dict(type='LoadIRImageFromFile'),
        dict(type='LoadIRAnnotations'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomRescaleLongSide', base_size=base_size, ratio_range=(0.5, 2.0)),
        dict(type='PadToMinSize', size=crop_size, pad_val=0, seg_pad_val=0),
        dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
        dict(type='RandomGaussianBlur', prob=0.5, radius_range=(0.0, 1.0)),
        dict(type='PackSegInputs'),
    ]


def irstd_resize_to_base_pipeline(base_size: int) -> List[dict]:
    """The reference's test protocol: every image resized to ``base_size`` squared."""
    return [
        dict(type='LoadIRImageFromFile'),
        dict(type='LoadIRAnnotations'),
        dict(type='ResizeToBase', base_size=base_size),
        dict(type='PackSegInputs'),
    ]
