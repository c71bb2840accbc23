"""Validate an IRSTD data set before training on it, and print its statistics.

Checks, for every name of every split: image and mask exist, both decode
completely, sizes agree, and the mask is binary (at most one nonzero value,
which the loader makes the target). An empty image folder or split file, and a
split file that is neither UTF-8 nor UTF-16/32 with a byte-order mark, fail.
Reports image count, size range, file modes, targets per image (8-connected
components) and target sizes. Exits with status 1 when a problem is found.

A mask with its image's aspect ratio but another size (SIRST's Misc_111) is a
warning, because ``LoadIRAnnotations`` resizes such masks; ``--strict`` makes
warnings fail too.

Example::

    python tools/dataset_converters/check_dataset.py data/sirst --layout sirst
    python tools/dataset_converters/check_dataset.py data/BasicIRSTD/NUDT-SIRST \\
        --layout basicirstd
    python tools/dataset_converters/check_dataset.py data/my_tiff_set \\
        --img-suffix .tif .tiff --seg-suffix .tif .tiff
"""
import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from mmseg_serank.datasets.ir_image_io import IRImageReadError, read_ir_image, read_mask_labels
from mmseg_serank.datasets.irstd_dataset import (
    list_image_names,
    pair_files,
    read_split_file,
    repeated_images,
)
from mmseg_serank.datasets.transforms.loading import is_rescaled_shape


@dataclass(frozen=True)
class Layout:
    """Where a layout keeps images, masks and split files (relative to ROOT)."""

    parts: Tuple[Tuple[str, str, str], ...]  # (part name, image dir, mask dir)
    img_suffixes: Tuple[str, ...] = ('.png', )
    mask_suffixes: Tuple[str, ...] = ('.png', )
    split_glob: Optional[str] = None  # split files; none: every image of each part


_SIRST = Layout(parts=(('all', 'images', 'masks'), ), mask_suffixes=('_pixels0.png', ),
                split_glob='idx_427/*.txt')
_TRAINVAL_TEST = Layout(parts=(('trainval', 'trainval/images', 'trainval/masks'),
                               ('test', 'test/images', 'test/masks')))
LAYOUTS: Dict[str, Layout] = {
    'sirst': _SIRST,
    'noisy-sirst': _SIRST,
    'nudt-sirst': Layout(parts=(('all', 'images', 'masks'), ), split_glob='50_50/*.txt'),
    'irstd1k': Layout(parts=(('all', 'IRSTD1k_Img', 'IRSTD1k_Label'), ),
                      split_glob='*.txt'),
    'sirst-aug': _TRAINVAL_TEST,
    'serankdet': _TRAINVAL_TEST,
    'generic': Layout(parts=(('all', 'images', 'masks'), ), split_glob='splits/*.txt'),
    'basicirstd': Layout(parts=(('all', 'images', 'masks'), ),
                         img_suffixes=('.png', '.bmp', '.jpg'),
                         mask_suffixes=('.png', '.bmp'), split_glob='img_idx/*.txt'),
}


@dataclass
class Report:
    """Problems found and statistics gathered over one set of names."""

    errors: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    widths: List[int] = field(default_factory=list)
    heights: List[int] = field(default_factory=list)
    image_modes: Counter = field(default_factory=Counter)
    mask_modes: Counter = field(default_factory=Counter)
    targets_per_image: List[int] = field(default_factory=list)
    target_sizes: List[int] = field(default_factory=list)


def check_pair(name: str, img_path: str, mask_path: str, report: Report) -> None:
    """Decode one image/mask pair and add its problems and statistics to ``report``."""
    try:
        image = read_ir_image(img_path)
        labels = read_mask_labels(mask_path)
    except IRImageReadError as error:
        report.errors.append(f'{name}: {error}')
        return
    with Image.open(img_path) as img_file, Image.open(mask_path) as mask_file:
        report.image_modes[f'{img_file.format} {img_file.mode}'] += 1
        report.mask_modes[f'{mask_file.format} {mask_file.mode}'] += 1
    height, width = image.shape[:2]
    report.widths.append(width)
    report.heights.append(height)
    if labels.shape != (height, width):
        message = (f'{name}: mask {mask_path} is {labels.shape[1]}x{labels.shape[0]} '
                   f'(WxH), image {img_path} is {width}x{height}')
        if not is_rescaled_shape(labels.shape, (height, width)):
            report.errors.append(message)
            return
        report.warnings.append(message + ' (same aspect ratio: resized when loaded)')
    values = np.unique(labels)
    # LoadIRAnnotations makes every nonzero label a target, so a mask is binary
    # when it holds at most one nonzero value (an all-target mask included); more
    # than one (anti-aliased edges, 128 and 255) means a soft or mislabelled mask.
    if np.count_nonzero(values) > 1:
        shown = ', '.join(str(v) for v in values[:8])
        report.errors.append(f'{name}: mask {mask_path} is not binary '
                             f'(values {shown}{", ..." if len(values) > 8 else ""})')
        return
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        (labels != 0).astype(np.uint8), connectivity=8)
    report.targets_per_image.append(count - 1)
    report.target_sizes.extend(int(area) for area in stats[1:, cv2.CC_STAT_AREA])


def split_files(root: Path, layout: Layout, splits: Sequence[str]) -> List[Path]:
    """The split files given on the command line, else those of the layout."""
    if splits:
        return [Path(s) if Path(s).is_absolute() else root / s for s in splits]
    if layout.split_glob is None:
        return []
    return sorted(root.glob(layout.split_glob))


def summarise(title: str, report: Report, names_count: int) -> None:
    """Print the statistics of one part."""
    print(f'== {title}: {names_count} names, {len(report.widths)} decoded')
    if report.widths:
        print(f'   width {min(report.widths)}-{max(report.widths)}, '
              f'height {min(report.heights)}-{max(report.heights)}')
        print('   image modes: ' + ', '.join(
            f'{mode} {n}' for mode, n in report.image_modes.most_common()))
        print('   mask modes: ' + ', '.join(
            f'{mode} {n}' for mode, n in report.mask_modes.most_common()))
    if report.targets_per_image:
        per_image = Counter(report.targets_per_image)
        print(f'   targets: {sum(report.targets_per_image)} in all; per image ' +
              ', '.join(f'{k}: {per_image[k]}' for k in sorted(per_image)))
    if report.target_sizes:
        sizes = np.array(report.target_sizes)
        print(f'   target size (px): min {sizes.min()}, median {np.median(sizes):g}, '
              f'max {sizes.max()}')


def check_dataset(root: Path, layout_name: str, splits: Sequence[str] = (),
                  img_suffixes: Sequence[str] = (),
                  mask_suffixes: Sequence[str] = ()) -> Report:
    """Check every part of ``root`` in ``layout_name``; print statistics; return all.

    Non-empty ``img_suffixes`` / ``mask_suffixes`` replace the layout's.
    """
    layout = LAYOUTS[layout_name]
    if img_suffixes:
        layout = replace(layout, img_suffixes=tuple(img_suffixes))
    if mask_suffixes:
        layout = replace(layout, mask_suffixes=tuple(mask_suffixes))
    total = Report()
    split_paths = split_files(root, layout, splits)
    if split_paths and len(layout.parts) > 1:
        raise ValueError(f'layout {layout_name} has no split files; '
                         'its parts are folders')
    for part, img_dir, mask_dir in layout.parts:
        report = Report()
        img_dir_path, mask_dir_path = root / img_dir, root / mask_dir
        for directory in (img_dir_path, mask_dir_path):
            if not directory.is_dir():
                report.errors.append(f'folder not found: {directory}')
        if report.errors:
            total.errors += report.errors
            continue
        all_names = list_image_names(str(img_dir_path), layout.img_suffixes)
        if not all_names:
            report.errors.append(f'no images in {img_dir_path} (image suffixes '
                                 f'{"|".join(layout.img_suffixes)})')
        pairs = pair_files(all_names, str(img_dir_path), str(mask_dir_path),
                           layout.img_suffixes, layout.mask_suffixes, report.errors)
        for name, img_path, mask_path in pairs:
            check_pair(name, img_path, mask_path, report)
        summarise(f'{part} ({img_dir})', report, len(all_names))
        total.errors += report.errors
        total.warnings += report.warnings
        for split_path in split_paths:
            check_split(split_path, str(img_dir_path), str(mask_dir_path), layout, total)
    check_split_overlap(split_paths, total)
    return total


def check_split(split_path: Path, img_dir: str, mask_dir: str, layout: Layout,
                total: Report) -> None:
    """Every name of a split file must have an image and a mask."""
    if not split_path.is_file():
        total.errors.append(f'split file not found: {split_path}')
        return
    try:
        names = read_split_file(split_path)
    except ValueError as error:  # undecodable: the message names the file
        total.errors.append(str(error))
        return
    if not names:
        total.errors.append(f'{split_path}: the split file lists no names '
                            '(training and testing refuse an empty split)')
    problems: List[str] = []
    pairs = pair_files(names, img_dir, mask_dir, layout.img_suffixes, layout.mask_suffixes,
                       problems)
    # An error, as at training: the image would count twice in every metric.
    problems += repeated_images(pairs, 'the split file')
    print(f'-- split {split_path}: {len(names)} names, {len(problems)} missing or repeated files')
    total.errors += [f'{split_path}: {p}' for p in problems]


def check_split_overlap(split_paths: Sequence[Path], total: Report) -> None:
    """Warn when a test split shares names with a train split (leakage)."""
    names: Dict[Path, set] = {}
    for path in split_paths:
        try:
            names[path] = set(read_split_file(path))
        except (OSError, ValueError):  # reported by check_split
            continue
    tests = [p for p in names if 'test' in p.stem and 'val' not in p.stem]
    trains = [p for p in names if 'train' in p.stem and 'test' not in p.stem]
    for test in tests:
        for train in trains:
            shared = names[test] & names[train]
            if shared:
                total.warnings.append(f'{test} and {train} share {len(shared)} names')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', type=Path, help='data set root folder')
    parser.add_argument('--layout', choices=sorted(LAYOUTS), default='generic',
                        help='folder layout (default: generic images/, masks/, splits/)')
    parser.add_argument('--split', nargs='+', default=[], metavar='FILE',
                        help='split files to check instead of the layout\'s '
                             '(relative to ROOT or absolute)')
    parser.add_argument('--img-suffix', nargs='+', default=[], metavar='SUFFIX',
                        help="image suffixes tried in order, replacing the layout's "
                             '(e.g. .tif .tiff)')
    parser.add_argument('--seg-suffix', nargs='+', default=[], metavar='SUFFIX',
                        help="mask suffixes after the image name, replacing the layout's "
                             '(e.g. .tif or _pixels0.png)')
    parser.add_argument('--strict', action='store_true', help='fail on warnings too')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not args.root.is_dir():
        print(f'ERROR: data set root not found: {args.root}')
        return 1
    report = check_dataset(args.root, args.layout, args.split, args.img_suffix,
                           args.seg_suffix)
    for warning in report.warnings:
        print(f'WARNING: {warning}')
    for error in report.errors:
        print(f'ERROR: {error}')
    failed = bool(report.errors) or (args.strict and bool(report.warnings))
    print(f'{"FAILED" if failed else "OK"}: {len(report.errors)} error(s), '
          f'{len(report.warnings)} warning(s)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
