"""IRSTD datasets and transforms."""
from .benchmarks import (
                         IRSTD1kDataset,
                         NoisySIRSTDataset,
                         NUDTSIRSTDataset,
                         SIRSTAugDataset,
                         SIRSTDataset,
)
from .irstd_dataset import IRSTDDataset, irstd_dataset_meta, read_split_file
from .transforms import *  # noqa: F401,F403

__all__ = [
    'IRSTDDataset', 'SIRSTDataset', 'NoisySIRSTDataset', 'NUDTSIRSTDataset',
    'IRSTD1kDataset', 'SIRSTAugDataset', 'irstd_dataset_meta', 'read_split_file'
]
