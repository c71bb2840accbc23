"""Generic infrared small target dataset: one image and one binary mask a name.

Every IRSTD benchmark is a folder of images, a folder of masks whose names
follow from the image names, and optionally a split file listing names. This
class covers all of them through ``data_prefix``, the two suffixes and
``ann_file``; the benchmark subclasses only change defaults.

File problems that are cheap to find are reported at build time, all at once:
a missing image or mask, a file whose header does not read as an image, and a
mask whose size disagrees with its image's (other than a uniform rescale, which
``LoadIRAnnotations`` resizes). Reading headers only costs about a millisecond
a pair; damage after the header (a truncated pixel stream) is found when the
file is decoded, by the loaders, which raise :class:`IRImageReadError` naming it.
"""
import codecs
import copy
import os
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .ir_image_io import IRImageReadError, read_image_size
from .transforms.loading import is_rescaled_shape

Suffixes = Union[str, Sequence[str]]

#: Extensions tried, in order, when a suffix is given as ``None``.
AUTO_SUFFIXES = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')


#: Byte-order marks recognised in split files, longest first (the UTF-32 LE
#: mark starts with the UTF-16 LE one).
SPLIT_FILE_BOMS = ((codecs.BOM_UTF32_LE, 'utf-32-le'), (codecs.BOM_UTF32_BE, 'utf-32-be'),
                   (codecs.BOM_UTF8, 'utf-8'), (codecs.BOM_UTF16_LE, 'utf-16-le'),
                   (codecs.BOM_UTF16_BE, 'utf-16-be'))


def decode_split_file(path: Union[str, Path]) -> str:
    """Text of a split file: UTF-8, or UTF-8/16/32 with a byte-order mark.

    Editors on Windows save UTF-16 with a mark, so the mark decides; without
    one the file must be UTF-8 (ASCII included). Anything else (Latin-1 names,
    UTF-16 without a mark) raises ValueError naming the file, rather than a
    bare UnicodeDecodeError or names with NUL bytes that match no file.
    """
    data = Path(path).read_bytes()
    encoding, start = 'utf-8', 0
    for bom, bom_encoding in SPLIT_FILE_BOMS:
        if data.startswith(bom):
            encoding, start = bom_encoding, len(bom)
            break
    try:
        text = data[start:].decode(encoding)
    except UnicodeDecodeError as error:
        raise ValueError(
            f'split file {path}: not valid {encoding.upper()} ({error.reason} at byte '
            f'{error.start + start}); save it as UTF-8 (or UTF-16 with a byte-order '
            'mark)') from error
    if '\x00' in text:
        raise ValueError(f'split file {path}: contains NUL characters, probably UTF-16 '
                         'without a byte-order mark; save it as UTF-8')
    return text
def irstd_dataset_meta() -> dict:
    """A copy of the IRSTD ``dataset_meta`` (classes, palette) that checkpoints
    carry and inference falls back to: :attr:`IRSTDDataset.METAINFO`."""
    return copy.deepcopy(dict(IRSTDDataset.METAINFO))


def read_split_file(path: Union[str, Path]) -> List[str]:
    """Names listed in a split file, one a line.

    Tolerates what split files in the wild contain: CRLF line ends, blank lines,
    surrounding spaces, a missing final newline and the encodings of
    :func:`decode_split_file`. A name given with an image extension keeps it
    (the suffix is then added after it, so list names without extension as the
    benchmarks do).
    """
    text = decode_split_file(path)
    return [line.strip() for line in text.splitlines() if line.strip()]


def as_suffix_tuple(suffixes: Optional[Suffixes]) -> Tuple[str, ...]:
    """One suffix, several candidates, or ``None`` for :data:`AUTO_SUFFIXES`."""
    if suffixes is None:
        return AUTO_SUFFIXES
    if isinstance(suffixes, str):
        return (suffixes, )
    return tuple(suffixes)


def find_with_suffix(directory: str, name: str,
                     suffixes: Tuple[str, ...]) -> Optional[str]:
    """Path of ``directory/name + suffix`` for the first suffix that exists."""
    for suffix in suffixes:
        candidate = osp.join(directory, name + suffix)
        if osp.isfile(candidate):
            return candidate
    return None


def broken_link(directory: str, name: str, suffixes: Tuple[str, ...]) -> Optional[str]:
    """A problem line if ``directory/name + suffix`` is a symbolic link that leads
    nowhere (a loop or a missing target), which is not the same as no file."""
    for suffix in suffixes:
        candidate = osp.join(directory, name + suffix)
        if osp.islink(candidate) and not osp.exists(candidate):
            try:
                os.stat(candidate)
            except OSError as error:
                return f'{name}: {candidate} is a broken symbolic link ({error.strerror})'
    return None


def list_image_names(img_dir: str, suffixes: Tuple[str, ...]) -> List[str]:
    """Sorted names (file names less suffix) of the images directly in ``img_dir``."""
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder not found: {img_dir}')
    names = set()
    for file in os.listdir(img_dir):
        if not osp.isfile(osp.join(img_dir, file)):
            continue
        names.update(file[:-len(suffix)] for suffix in suffixes if file.endswith(suffix))
    return sorted(names)


def header_problems(name: str, img_path: str, mask_path: str) -> List[str]:
    """Problems visible in the headers of one pair: unreadable, or sizes disagree.

    A mask of its image's aspect ratio but another size (SIRST's Misc_111) is
    no problem: ``LoadIRAnnotations`` resizes it, as ``check_dataset.py`` warns.
    """
    sizes, problems = [], []
    for path in (img_path, mask_path):
        try:
            sizes.append(read_image_size(path))
        except IRImageReadError as error:
            problems.append(f'{name}: {error}')
    if problems:
        return problems
    (img_h, img_w), (mask_h, mask_w) = sizes
    if (img_h, img_w) != (mask_h, mask_w) and not is_rescaled_shape(sizes[1], sizes[0]):
        problems.append(f'{name}: mask {mask_path} is {mask_w}x{mask_h} (WxH) but image '
                        f'{img_path} is {img_w}x{img_h}')
    return problems


def pair_files(names: Sequence[str], img_dir: str, mask_dir: str,
               img_suffixes: Tuple[str, ...], mask_suffixes: Tuple[str, ...],
               problems: List[str]) -> List[Tuple[str, str, str]]:
    """``(name, image path, mask path)`` for every name with both files.

    A line describing each missing file is appended to ``problems``.
    """
    pairs = []
    for name in names:
        img_path = find_with_suffix(img_dir, name, img_suffixes)
        mask_path = find_with_suffix(mask_dir, name, mask_suffixes)
        if img_path is None:
            problems.append(broken_link(img_dir, name, img_suffixes) or f'{name}: no image '
                            f'{osp.join(img_dir, name)}{"|".join(img_suffixes)}')
        if mask_path is None:
            problems.append(broken_link(mask_dir, name, mask_suffixes) or f'{name}: no mask '
                            f'{osp.join(mask_dir, name)}{"|".join(mask_suffixes)}')
        if img_path is not None and mask_path is not None:
            pairs.append((name, img_path, mask_path))
    return pairs


def repeated_images(pairs: Sequence[Tuple[str, str, str]], source: str) -> List[str]:
    """A line for each image that several listed names resolve to (``Misc_1``
    twice, or ``Misc_1`` and ``Misc_1.png``)."""
    names_of: Dict[str, List[str]] = {}
    for name, img_path, _ in pairs:
        names_of.setdefault(osp.realpath(img_path), []).append(name)
    return [f'{names[0]}: listed {len(names)} times in {source} '
            f'({", ".join(repr(n) for n in names)} are all {path})'
            for path, names in names_of.items() if len(names) > 1]


@DATASETS.register_module()
class IRSTDDataset(BaseSegDataset):
    """Binary IRSTD segmentation data set (background / target).

    Args:
        img_suffix: image suffix, a sequence of candidates tried in order (for
            sets mixing ``.png`` and ``.bmp``) or ``None`` for
            :data:`AUTO_SUFFIXES`.
        seg_map_suffix: mask suffix after the image name, e.g.
            ``'_pixels0.png'`` for SIRST; candidates or ``None`` as above.
        ann_file: optional split file (names without extension), relative to
            ``data_root``; without it every image in the image folder is used.
        **kwargs: the rest of :class:`mmseg.datasets.BaseSegDataset`
            (``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``, ...).

    Raises:
        FileNotFoundError: at build time, listing every name whose image or mask
            is missing, or when no image is found at all.
        IRImageReadError: at build time, listing every missing file, unreadable
            header and image/mask size disagreement, when any of the latter two
            is found.
    """

    # The palette is RGB, as mmseg's SegLocalVisualizer draws it: targets red
    # (white would vanish in bright clutter); it blends every pixel with its
    # class colour, so black background only dims the image around them.
    METAINFO = dict(classes=('background', 'target'),
                    palette=[[0, 0, 0], [255, 0, 0]])
    #: Where the data set is distributed (named when its data root is missing).
    SOURCE = ''

    def __init__(self,
                 img_suffix: Optional[Suffixes] = '.png',
                 seg_map_suffix: Optional[Suffixes] = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError('IRSTD masks use 0 for background; '
                             'reduce_zero_label=True would turn it into ignore')
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         reduce_zero_label=False, **kwargs)

    def _check_data_root(self) -> None:
        """A missing data root is a data set not yet downloaded: say where from."""
        if not self.data_root or osp.isdir(self.data_root):
            return
        where = (f'get it from {self.SOURCE} and put it there in the layout it is '
                 'distributed in' if self.SOURCE else
                 'put the data set there (images/, masks/ and an optional split file)')
        raise FileNotFoundError(
            f'data root {self.data_root} of {type(self).__name__} does not exist: {where}, '
            'or set data_root to where it is (docs/en/user_guides/data.md)')

    def _list_names(self, img_dir: str) -> Tuple[List[str], str]:
        """Names to load and a description of where they came from (for errors)."""
        self._check_data_root()
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(f'split file not found: {self.ann_file}')
            return read_split_file(self.ann_file), f'split file {self.ann_file}'
        names = list_image_names(img_dir, as_suffix_tuple(self.img_suffix))
        return names, f'image folder {img_dir}'

    def load_data_list(self) -> List[dict]:
        """Pair every name with its image and mask, failing once for all problems."""
        img_dir = self.data_prefix.get('img_path', '')
        mask_dir = self.data_prefix.get('seg_map_path', '')
        names, source = self._list_names(img_dir)
        if not names:
            raise FileNotFoundError(f'no images found in {source} '
                                    f'(image suffixes {as_suffix_tuple(self.img_suffix)})')
        data_list, missing, unreadable = [], [], []
        pairs = pair_files(names, img_dir, mask_dir, as_suffix_tuple(self.img_suffix),
                           as_suffix_tuple(self.seg_map_suffix), missing)
        # A name listed twice would weigh that image twice in every metric.
        missing += repeated_images(pairs, source)
        for name, img_path, mask_path in pairs:
            unreadable += header_problems(name, img_path, mask_path)
            data_list.append(dict(img_path=img_path, seg_map_path=mask_path,
                                  label_map=self.label_map,
                                  reduce_zero_label=False, seg_fields=[]))
        if missing and not unreadable:
            raise FileNotFoundError(
                f'{len(missing)} missing or repeated file(s) for the {len(names)} names of '
                f'{source}:\n  ' + '\n  '.join(missing))
        if missing or unreadable:
            raise IRImageReadError(
                f'{len(missing)} missing or repeated file(s) and {len(unreadable)} '
                f'unreadable or mismatched pair(s) for the {len(names)} names of '
                f'{source}:\n  ' + '\n  '.join(missing + unreadable))
        return data_list

