"""Where ``tools/infer.py`` writes: inputs, names, the output folder, the files.

Every file is written atomically through the package's picture writer
(:func:`~mmseg_serank.visualization.write_file`): complete or absent, and a
file that cannot be written is an :class:`OutputWriteError` naming it.
"""
import csv
import glob
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from ..utils.cli import one_line
from ..visualization import draw_prediction_overlay, write_file, write_picture
from .errors import InferenceError, OutputWriteError
from .targets import TARGET_FIELDS, target_records

__all__ = ['IMAGE_SUFFIXES', 'DetectionResults', 'check_earlier_run', 'check_out_dir',
           'collect_images', 'earlier_outputs', 'output_names', 'remove_earlier_outputs',
           'write_image_outputs', 'write_tables']

IMAGE_SUFFIXES = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')
PICTURE_KINDS = ('prob', 'mask', 'overlay')
# The files a run writes (and write_atomically's temporary names of them).
RUN_OUTPUT = re.compile(r'^(?:.+_(?:prob|mask|overlay)\.png|targets\.(?:csv|json))'
                        r'(?:\.\d+\.tmp)?$')


@dataclass
class DetectionResults:
    """What a run found so far: ``targets.csv`` / ``targets.json`` are written from it."""

    threshold: float
    images: List[dict] = field(default_factory=list)
    targets: List[dict] = field(default_factory=list)
    failures: List[Tuple[Path, str]] = field(default_factory=list)


def collect_images(inputs: Sequence[str]) -> List[Path]:
    """Expand files, folders and globs into a sorted, de-duplicated list."""
    found: Dict[Path, None] = {}
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir()
                                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            candidates = [path]
        else:
            candidates = [Path(p) for p in sorted(glob.glob(item)) if Path(p).is_file()]
            if not candidates:
                raise FileNotFoundError(f'No image matches input "{item}"')
        for candidate in candidates:
            found[candidate.resolve()] = None
    if not found:
        raise FileNotFoundError(f'No images found in {list(inputs)}')
    return list(found)


def output_names(paths: Sequence[Path]) -> Dict[Path, str]:
    """Unique output name per image: its path relative to the inputs' common
    folder, without the extension unless another input differs only in it."""
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    stems = Counter((p.parent, p.stem) for p in paths)
    names = {}
    for path in paths:
        leaf = path.stem if stems[(path.parent, path.stem)] == 1 else path.name
        names[path] = (path.parent.relative_to(root) / leaf).as_posix()
    clashes = [name for name, count in Counter(names.values()).items() if count > 1]
    if clashes:
        raise InferenceError(f'inputs give equal output names {clashes[:5]}; rename or run '
                             'them separately')
    return names


def check_out_dir(out_dir: Path, inputs: Sequence[str], images: Sequence[Path]) -> None:
    """Refuse an output folder that is an input folder or lies inside one."""
    folders = {p.parent for p in images}
    folders.update(Path(item).resolve() for item in inputs if Path(item).is_dir())
    out = out_dir.resolve()
    for folder in sorted(folders):
        if out == folder or folder in out.parents:
            raise InferenceError(
                f'--out {out_dir} is {"the" if out == folder else "inside the"} input folder '
                f'{folder}; choose a folder outside the inputs so no input (or file beside '
                'them) is overwritten')


def earlier_outputs(out_dir: Path) -> List[Path]:
    """The files of an earlier run in ``out_dir`` (sub-folders included)."""
    if not out_dir.is_dir():
        return []
    return sorted(path for path in out_dir.rglob('*')
                  if RUN_OUTPUT.match(path.name) and (path.is_file() or path.is_symlink()))


def check_earlier_run(out_dir: Path, overwrite: bool) -> List[Path]:
    """Refuse an ``--out`` with an earlier run's outputs unless ``overwrite``;
    returns the files to remove before this run writes."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InferenceError(f'--out {out_dir} is not a folder; give a folder path')
    earlier = earlier_outputs(out_dir)
    if earlier and not overwrite:
        shown = ', '.join(str(p.relative_to(out_dir)) for p in earlier[:3])
        raise InferenceError(
            f'--out {out_dir} holds the outputs of an earlier run ({len(earlier)} files: '
            f'{shown}{", ..." if len(earlier) > 3 else ""}); writing this run there would '
            'mix the two. Choose another --out, or give --overwrite to remove the earlier '
            'outputs first')
    return earlier


def remove_earlier_outputs(out_dir: Path, earlier: Sequence[Path]) -> None:
    """Remove the files of :func:`earlier_outputs` and the sub-folders they leave empty."""
    try:
        for path in earlier:
            path.unlink(missing_ok=True)
        for folder in sorted({p.parent for p in earlier}, key=lambda p: -len(p.parts)):
            while folder != out_dir and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
    except OSError as error:
        raise OutputWriteError(f'cannot remove the earlier outputs in {out_dir}: '
                               f'{one_line(error)}') from error


def write_image_outputs(out_dir: Path, name: str, sample: dict, probability: np.ndarray,
                        mask: np.ndarray, connectivity: int) -> List[dict]:
    """Probability map, mask and overlay of one image, all three or none;
    returns its target records (:func:`target_records`)."""
    path = sample['source_path']
    targets = target_records(name, mask, probability, path, connectivity)
    image = sample['inputs'].permute(1, 2, 0).numpy().copy()
    if image.shape[:2] != mask.shape:  # a resizing test pipeline
        image = cv2.resize(image, mask.shape[::-1])
    pictures = dict(prob=np.round(probability * 255).astype(np.uint8),
                    mask=mask.astype(np.uint8) * 255,
                    overlay=draw_prediction_overlay(image, mask, name,
                                                    connectivity=connectivity))
    written = []
    try:
        for kind in PICTURE_KINDS:
            written.append(out_dir / f'{name}_{kind}.png')
            try:
                write_picture(str(written[-1]), pictures[kind])
            except (OSError, ValueError) as error:
                raise OutputWriteError(one_line(error)) from error
    except BaseException:
        for picture in written:
            if picture.is_file():
                picture.unlink()
        raise
    return targets


def write_tables(out_dir: Path, results: DetectionResults) -> None:
    """``targets.csv`` (one row per target) and ``targets.json`` (the run's summary)."""
    table = io.StringIO(newline='')
    writer = csv.DictWriter(table, fieldnames=TARGET_FIELDS)
    writer.writeheader()
    writer.writerows(results.targets)
    summary = dict(threshold=results.threshold, num_images=len(results.images),
                   images=results.images,
                   unreadable=[dict(path=str(p), error=m) for p, m in results.failures],
                   targets=results.targets)
    for path, data in ((out_dir / 'targets.csv', table.getvalue().encode()),
                       (out_dir / 'targets.json', json.dumps(summary, indent=2).encode())):
        try:
            write_file(str(path), data, 'table')
        except OSError as error:
            raise OutputWriteError(one_line(error)) from error
