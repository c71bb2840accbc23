"""The public IRSTD benchmarks in the layouts they are distributed in.

Each class only sets the defaults of :class:`IRSTDDataset` (folders and mask
suffix); pass ``data_prefix``/``img_suffix``/``seg_map_suffix`` to override,
for instance for the BasicIRSTD or SeRankDet-reference re-packagings (see
``configs/_base_/datasets/*.py``). Split files are given as ``ann_file``.
"""
from typing import Optional

from mmseg.registry import DATASETS

from .irstd_dataset import IRSTDDataset, Suffixes


def _prefix(data_prefix: Optional[dict], img_path: str, seg_map_path: str) -> dict:
    return dict(data_prefix) if data_prefix is not None else dict(
        img_path=img_path, seg_map_path=seg_map_path)


@DATASETS.register_module()
class SIRSTDataset(IRSTDDataset):
    """SIRST / NUAA-SIRST (Dai et al., WACV 2021), 427 images.

    Layout: ``images/NAME.png``, ``masks/NAME_pixels0.png``, splits
    ``idx_427/{trainval,test}.txt`` (341 / 86 names).
    """

    SOURCE = 'https://github.com/YimianDai/sirst (the original release)'

    def __init__(self, data_prefix: Optional[dict] = None,
                 img_suffix: Optional[Suffixes] = '.png',
                 seg_map_suffix: Optional[Suffixes] = '_pixels0.png', **kwargs) -> None:
        super().__init__(data_prefix=_prefix(data_prefix, 'images', 'masks'),
                         img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)


@DATASETS.register_module()
class NoisySIRSTDataset(SIRSTDataset):
    """NoisySIRST (GrokCV): SIRST with added sensor noise.

    Assumed layout: that of SIRST (``images/``, ``masks/NAME_pixels0.png``,
    ``idx_427/`` splits), the noisy frames replacing the clean ones. The copy
    linked from the SeRankDet reference README is packed like the reference's
    other sets (``{trainval,test}/{images,masks}``, same names); load that one
    with ``IRSTDDataset`` as in ``configs/_base_/datasets/noisy_sirst.py``.
    """

    SOURCE = 'the link in the SeRankDet README, https://github.com/GrokCV/SeRankDet'


@DATASETS.register_module()
class NUDTSIRSTDataset(IRSTDDataset):
    """NUDT-SIRST (DNANet release), 1327 images of 256x256.

    Layout: ``images/NAME.png``, ``masks/NAME.png``, splits ``50_50/{train,test}.txt``.
    """

    SOURCE = ('https://github.com/YeRen123455/Infrared-Small-Target-Detection '
              '(the DNANet release)')

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        super().__init__(data_prefix=_prefix(data_prefix, 'images', 'masks'), **kwargs)


@DATASETS.register_module()
class IRSTD1kDataset(IRSTDDataset):
    """IRSTD-1k (ISNet release), 1001 images of 512x512.

    Layout: ``IRSTD1k_Img/NAME.png``, ``IRSTD1k_Label/NAME.png``, splits
    ``trainval.txt`` / ``test.txt`` (800 / 201) in the root.
    """

    SOURCE = 'https://github.com/RuiZhang97/ISNet (the ISNet release)'

    def __init__(self, data_prefix: Optional[dict] = None, **kwargs) -> None:
        super().__init__(
            data_prefix=_prefix(data_prefix, 'IRSTD1k_Img', 'IRSTD1k_Label'), **kwargs)


@DATASETS.register_module()
class SIRSTAugDataset(IRSTDDataset):
    """SIRST-Aug, 256x256: ``{trainval,test}/{images,masks}/NAME.png``, no split file.

    Args:
        split: ``'trainval'`` or ``'test'``, the sub-folder to read; ignored
            when ``data_prefix`` is given.
    """

    SOURCE = 'https://github.com/Tianfang-Zhang/AGPCNet (the AGPCNet release)'

    def __init__(self, split: str = 'trainval', data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(
            data_prefix=_prefix(data_prefix, f'{split}/images', f'{split}/masks'),
            **kwargs)
