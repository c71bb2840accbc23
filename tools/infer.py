"""Detect infrared small targets in images, folders or globs with a trained model.

Writes per image the target probability map (``NAME_prob.png``, probability x
255), the binary mask (``NAME_mask.png``) and an overlay, plus one
``targets.csv`` and ``targets.json`` listing every detected target (image,
centroid, area, bounding box, peak score): IRSTD users need target positions,
not only masks.

The probability and the mask are what mmseg's ``inference_model`` and
``MMSegInferencer`` return for the same checkpoint and image: the mask is the
model's ``pred_sem_seg``, made with its head's threshold
(``model.decode_head.threshold``), which ``--threshold`` replaces.

Images are decoded one batch at a time. An image whose longer side exceeds
``--max-side`` is segmented in overlapping ``--tile`` windows (mmseg's slide
inference, logits averaged where windows overlap), so memory stays bounded;
SeRank attention then ranks positions within each window, not the whole image.

NAME is the image's path relative to the folder common to all inputs, without
its extension (with it if two inputs differ only in extension), so images of
equal name from different folders stay apart (sub-folders are created under
``--out``). ``--out`` must not be an input folder or inside one, so no input or
earlier result next to it is overwritten. An ``--out`` holding an earlier run's
outputs is refused, so two runs are never mixed; with ``--overwrite`` the
earlier run's outputs (the files this tool writes: ``*_prob.png``,
``*_mask.png``, ``*_overlay.png``, ``targets.csv``, ``targets.json``) are
removed first and other files are kept. An unreadable image is reported and
skipped; after the other images are written the exit status is 1. Every file
is written atomically; one that cannot be written (full disk, read-only folder)
stops the run with an error naming it. Ctrl-C stops after the images done so
far, writes their ``targets.csv`` / ``targets.json`` and exits with 130.

``--backend onnxruntime`` or ``openvino`` runs a model exported by
``tools/deploy/export_onnx.py`` (the ``.onnx``, or an OpenVINO ``.xml``) in
place of the checkpoint, with the same outputs; the mask is then the exported
probability above ``--threshold`` (default: the config's
``model.decode_head.threshold``); large images are tiled with the same windows,
their logits averaged, so the outputs are those of the PyTorch backend. A file
exported from another model than CONFIG builds is refused.

Example::

    python tools/infer.py CONFIG CKPT data/frames/ 'more/*.png' --out results/
    python tools/infer.py CONFIG model.onnx data/frames/ --out results/ --backend onnxruntime
"""
# ruff: noqa: E402  (the Ctrl-C handler is installed before the slow imports)
import os
import signal
import sys


def _interrupted_while_loading(*_) -> None:
    sys.stderr.write('\nerror: interrupted while loading; nothing was written\n')
    sys.stderr.flush()
    os._exit(130)


if __name__ == '__main__':
    signal.signal(signal.SIGINT, _interrupted_while_loading)

import argparse
import csv
import glob
import io
import json
import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

import mmseg_serank  # noqa: F401  (compat patches must precede mmseg.apis)
from mmseg_serank.apis import (
    CHECKPOINT_ERRORS,
    inference_pipeline,
    init_irstd_model,
    probability_and_mask,
)
from mmseg_serank.compat import CheckpointFormatError
from mmseg_serank.deploy import BACKENDS, DeployedModelError, build_runner
from mmseg_serank.deploy.runners import one_line
from mmseg_serank.deploy.slide import deployed_probability, slide_settings
from mmseg_serank.engine.hooks.atomic_checkpoint_hook import write_atomically
from mmseg_serank.thresholds import check_threshold, config_threshold

IMAGE_SUFFIXES = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')
TARGET_FIELDS = ('image', 'target', 'centroid_x', 'centroid_y', 'area',
                 'bbox_x', 'bbox_y', 'bbox_w', 'bbox_h', 'peak_score', 'path')
PICTURE_KINDS = ('prob', 'mask', 'overlay')
# The files a run writes (and write_atomically's temporary names of them).
RUN_OUTPUT = re.compile(r'^(?:.+_(?:prob|mask|overlay)\.png|targets\.(?:csv|json))'
                        r'(?:\.\d+\.tmp)?$')
# PIL names the in-memory file it was given, not the image's path.
OBJECT_REPR = re.compile(r'<_io\.BytesIO object at 0x[0-9a-fA-F]+>')


class OutputWriteError(OSError):
    """An output file could not be written."""


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def threshold_arg(text: str) -> float:
    try:
        return check_threshold(float(text), '--threshold')
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='\n\n'.join(__doc__.split('\n\n')[1:-2]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file; with --backend onnxruntime / '
                        'openvino the model written by tools/deploy/export_onnx.py')
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders or glob patterns')
    parser.add_argument('--out', required=True,
                        help='output directory (not an input folder or inside one)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--batch-size', type=positive_int, default=1,
                        help='consecutive images of equal size are batched up to this')
    parser.add_argument('--threshold', type=threshold_arg, default=None,
                        help="probability in [0, 1) above which a pixel is target "
                             "(default: the model's decode_head.threshold)")
    parser.add_argument('--max-side', type=positive_int, default=1024,
                        help='images with a longer side than this are segmented in '
                             'tiles (default 1024)')
    parser.add_argument('--tile', type=positive_int, default=512,
                        help='tile size in pixels for those images; tiles overlap '
                             'by a quarter (default 512)')
    parser.add_argument('--backend', choices=('pytorch', ) + BACKENDS, default='pytorch',
                        help='pytorch runs the checkpoint; the others an exported model on '
                             'the CPU')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace an earlier run's outputs in --out (only the files "
                             'this tool writes are removed)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    return parser.parse_args()


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
        raise SystemExit(f'error: inputs give equal output names {clashes[:5]}; '
                         'rename or run them separately')
    return names


def check_out_dir(out_dir: Path, inputs: Sequence[str], images: Sequence[Path]) -> None:
    """Refuse an output folder that is an input folder or lies inside one."""
    folders = {p.parent for p in images}
    folders.update(Path(item).resolve() for item in inputs if Path(item).is_dir())
    out = out_dir.resolve()
    for folder in sorted(folders):
        if out == folder or folder in out.parents:
            raise SystemExit(
                f'error: --out {out_dir} is {"the" if out == folder else "inside the"} '
                f'input folder {folder}; choose a folder outside the inputs so no '
                'input (or file beside them) is overwritten')


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
        raise SystemExit(f'error: --out {out_dir} is not a folder; give a folder path')
    earlier = earlier_outputs(out_dir)
    if earlier and not overwrite:
        shown = ', '.join(str(p.relative_to(out_dir)) for p in earlier[:3])
        raise SystemExit(
            f'error: --out {out_dir} holds the outputs of an earlier run ({len(earlier)} '
            f'files: {shown}{", ..." if len(earlier) > 3 else ""}); writing this run there '
            'would mix the two. Choose another --out, or give --overwrite to remove the '
            'earlier outputs first')
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


def load_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """The model with the checkpoint's weights (strictly) and ``dataset_meta``."""
    try:
        return init_irstd_model(cfg, checkpoint, device=device)
    except CHECKPOINT_ERRORS as error:
        hint = ''
        if isinstance(error, CheckpointFormatError) and \
                Path(checkpoint).suffix.lower() in ('.onnx', '.xml'):
            hint = ('; this is an exported model: run it with --backend onnxruntime '
                    '(or --backend openvino)')
        message = one_line(error)
        raise SystemExit(f'error: {message.rstrip(".") if hint else message}{hint}') from None


def set_threshold(model: torch.nn.Module, threshold: float) -> float:
    """Make ``threshold`` (or, if None, the model's own) the head's, validated."""
    head = model.decode_head
    if head.out_channels != 1:
        if threshold is not None:
            raise SystemExit('error: --threshold needs a one-channel head; this '
                             f'model has {head.out_channels} output channels (arg-max)')
        return 0.5
    if threshold is None:
        try:
            threshold = check_threshold(head.threshold, 'model.decode_head.threshold')
        except ValueError as error:
            raise SystemExit(f'error: {error}') from None
    head.threshold = threshold
    return threshold


def decoded_samples(images: Sequence[Path], pipeline, failures: List[Tuple[Path, str]],
                    progress: ProgressBar) -> Iterator[dict]:
    """Each image through the inference pipeline; unreadable ones are reported
    and recorded in ``failures`` instead."""
    for path in images:
        try:
            sample = pipeline(dict(img_path=str(path)))
        except (OSError, ValueError) as error:
            text = OBJECT_REPR.sub('the file', one_line(error))
            message = text if str(path) in text else f'{path}: {text}'
            failures.append((path, message))
            print(f'\nskipping unreadable image {message}', file=sys.stderr)
            progress.update()
            continue
        sample['source_path'] = path
        yield sample


def size_batches(samples: Iterator[dict], batch_size: int) -> Iterator[List[dict]]:
    """Consecutive samples of equal size, up to ``batch_size``: at most one
    batch of decoded images is held at a time."""
    batch: List[dict] = []
    for sample in samples:
        if batch and (len(batch) == batch_size
                      or sample['inputs'].shape != batch[0]['inputs'].shape):
            yield batch
            batch = []
        batch.append(sample)
    if batch:
        yield batch


@contextmanager
def tiled_if_large(model: torch.nn.Module, shape: Sequence[int], max_side: int,
                   tile: int) -> Iterator[bool]:
    """Slide inference for images with a side above ``max_side`` (or all, if the
    config slides); yields whether this call tiles."""
    original = model.test_cfg
    settings = slide_settings(original, shape, max_side, tile)
    if settings is not None:
        model.test_cfg = ConfigDict(mode='slide', crop_size=settings[0], stride=settings[1])
    try:
        yield settings is not None
    finally:
        model.test_cfg = original


def describe_targets(image_name: str, mask: np.ndarray, probability: np.ndarray,
                     path: Path) -> List[dict]:
    """One record per 8-connected predicted target."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8)
    peaks = np.zeros(count)
    np.maximum.at(peaks, labels.ravel(), probability.ravel())
    records = []
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        records.append(dict(
            image=image_name, target=index,
            centroid_x=round(float(centroids[index][0]), 2),
            centroid_y=round(float(centroids[index][1]), 2),
            area=int(area), bbox_x=int(x), bbox_y=int(y), bbox_w=int(w),
            bbox_h=int(h), peak_score=round(float(peaks[index]), 4), path=str(path)))
    return records


def draw_overlay(image: np.ndarray, mask: np.ndarray,
                 targets: List[dict]) -> np.ndarray:
    """The input with each detected target outlined and boxed in red."""
    overlay = image.copy()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(overlay, contours, -1, (0, 0, 255), 1)
    for target in targets:
        margin = 3
        top_left = (target['bbox_x'] - margin, target['bbox_y'] - margin)
        bottom_right = (target['bbox_x'] + target['bbox_w'] + margin - 1,
                        target['bbox_y'] + target['bbox_h'] + margin - 1)
        cv2.rectangle(overlay, top_left, bottom_right, (0, 0, 255), 1)
    return overlay


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (complete or absent, never empty or
    cut short) or raise :class:`OutputWriteError` naming it."""
    try:
        write_atomically(data, path)
        size = path.stat().st_size
    except OSError as error:
        raise OutputWriteError(f'cannot write {path}: {one_line(error)} (folder not '
                               'writable, name too long or disk full?)') from error
    if size != len(data):
        raise OutputWriteError(f'cannot write {path}: {size} of {len(data)} bytes written '
                               '(disk full?)')


def write_png(path: Path, image: np.ndarray) -> None:
    """Write ``image`` to ``path`` as PNG or raise :class:`OutputWriteError` naming it."""
    try:
        encoded, data = cv2.imencode('.png', image)
    except cv2.error as error:
        raise OutputWriteError(f'cannot write {path}: {one_line(error)}') from error
    if not encoded or not len(data):
        raise OutputWriteError(f'cannot write {path}: OpenCV could not encode the PNG')
    write_file(path, data.tobytes())


# A batch of samples -> (probability, mask) per sample, and whether it was tiled.
Segmenter = Callable[[List[dict]], Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]]


def pytorch_segmenter(model: torch.nn.Module, args: argparse.Namespace) -> Segmenter:
    """mmseg's test step: what ``inference_model`` returns, tiled when large."""
    def segment(batch: List[dict]) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]:
        data = pseudo_collate([dict(inputs=s['inputs'], data_samples=s['data_samples'])
                               for s in batch])
        with tiled_if_large(model, batch[0]['inputs'].shape[-2:], args.max_side,
                            args.tile) as tiled, torch.no_grad():
            results = model.test_step(data)
        return [probability_and_mask(result) for result in results], tiled
    return segment


def deployed_segmenter(runner, threshold: float, test_cfg: dict,
                       args: argparse.Namespace) -> Segmenter:
    """An exported model: raw pixels in (as the data preprocessor gets them),
    probabilities out; the mask is the probability above ``threshold``. Large
    images are tiled with the PyTorch backend's windows, logits averaged."""
    def segment(batch: List[dict]) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], bool]:
        images = np.stack([s['inputs'].numpy() for s in batch]).astype(np.float32)
        settings = slide_settings(test_cfg, images.shape[2:], args.max_side, args.tile)
        try:
            probabilities = deployed_probability(runner, images, settings)[:, 0]
        except DeployedModelError as error:
            raise SystemExit(f'error: {batch[0]["source_path"]}: {error}') from None
        return [(p, p > threshold) for p in probabilities], settings is not None
    return segment


def build_segmenter(cfg: Config, args: argparse.Namespace) -> Tuple[Segmenter, float, Config]:
    """The chosen backend's segmenter, its threshold and the config it runs."""
    if args.backend == 'pytorch':
        try:
            model = load_model(cfg, args.checkpoint, args.device)
        except ValueError as error:  # e.g. a head setting out of range
            raise SystemExit(f'error: {error}') from None
        return pytorch_segmenter(model, args), set_threshold(model, args.threshold), model.cfg
    threshold = args.threshold
    if threshold is None:
        try:
            threshold = config_threshold(cfg)
        except ValueError as error:
            raise SystemExit(f'error: {error}') from None
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        runner = build_runner(args.backend, args.checkpoint, cfg=cfg,
                              warn=lambda message: print(f'warning: {message}',
                                                         file=sys.stderr))
    except (ImportError, DeployedModelError, FileNotFoundError) as error:
        raise SystemExit(f'error: {one_line(error)}') from None
    return deployed_segmenter(runner, threshold, cfg.model.get('test_cfg') or {},
                              args), threshold, cfg


def write_outputs(out_dir: Path, name: str, sample: dict, probability: np.ndarray,
                  mask: np.ndarray) -> List[dict]:
    """The three pictures of one image; returns its target records."""
    path = sample['source_path']
    targets = describe_targets(name, mask, probability, path)
    image = sample['inputs'].permute(1, 2, 0).numpy().copy()
    if image.shape[:2] != mask.shape:  # a resizing test pipeline
        image = cv2.resize(image, mask.shape[::-1])
    pictures = dict(prob=np.round(probability * 255).astype(np.uint8),
                    mask=mask.astype(np.uint8) * 255,
                    overlay=draw_overlay(image, mask, targets))
    written = []
    try:  # all three pictures of the image or none
        for kind in PICTURE_KINDS:
            written.append(out_dir / f'{name}_{kind}.png')
            write_png(written[-1], pictures[kind])
    except BaseException:
        for path in written:
            if path.is_file():
                path.unlink()
        raise
    return targets


def write_tables(out_dir: Path, threshold: float, images: List[dict],
                 targets: List[dict], failures: List[Tuple[Path, str]]) -> None:
    table = io.StringIO(newline='')
    writer = csv.DictWriter(table, fieldnames=TARGET_FIELDS)
    writer.writeheader()
    writer.writerows(targets)
    write_file(out_dir / 'targets.csv', table.getvalue().encode())
    summary = dict(threshold=threshold, num_images=len(images), images=images,
                   unreadable=[dict(path=str(p), error=m) for p, m in failures],
                   targets=targets)
    write_file(out_dir / 'targets.json', json.dumps(summary, indent=2).encode())


def run(args: argparse.Namespace) -> int:
    if not os.path.isfile(args.config):
        raise SystemExit(f'error: config {args.config} does not exist')
    try:
        cfg = Config.fromfile(args.config)
    except OSError as error:  # mmengine writes a temporary copy of each config file
        raise SystemExit(f'error: cannot load config {args.config}: {one_line(error)} (is '
                         'the disk full?)') from None
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    images = collect_images(args.inputs)
    names = output_names(images)
    out_dir = Path(args.out)
    check_out_dir(out_dir, args.inputs, images)
    earlier = check_earlier_run(out_dir, args.overwrite)
    segment, threshold, cfg = build_segmenter(cfg, args)
    pipeline = inference_pipeline(cfg.test_dataloader.dataset.pipeline)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputWriteError(f'cannot write to --out {out_dir}: {error}') from error
    remove_earlier_outputs(out_dir, earlier)

    failures: List[Tuple[Path, str]] = []
    done: List[dict] = []
    all_targets: List[dict] = []
    progress = ProgressBar(len(images))
    samples = decoded_samples(images, pipeline, failures, progress)
    try:
        for batch in size_batches(samples, args.batch_size):
            outputs, tiled = segment(batch)
            for sample, (probability, mask) in zip(batch, outputs):
                name = names[sample['source_path']]
                targets = write_outputs(out_dir, name, sample, probability, mask)
                all_targets.extend(targets)
                done.append(dict(image=name, path=str(sample['source_path']),
                                 targets=len(targets), tiled=tiled))
                progress.update()
    except KeyboardInterrupt:
        write_tables(out_dir, threshold, done, all_targets, failures)
        print(f'\nerror: interrupted after {len(done)} of {len(images)} images; their '
              f'outputs and targets.csv / targets.json are in {out_dir}', file=sys.stderr)
        return 130

    write_tables(out_dir, threshold, done, all_targets, failures)
    print(f'\n{len(all_targets)} targets in {len(done)} images -> {out_dir}')
    if failures:
        print(f'error: {len(failures)} unreadable image(s) skipped:', file=sys.stderr)
        for _, message in failures:
            print(f'  {message}', file=sys.stderr)
        return 1
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = parse_args()
    try:
        return run(args)
    except (OutputWriteError, FileNotFoundError) as error:
        print(f'error: {one_line(error)}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('\nerror: interrupted before the run finished; the pictures written are '
              'complete', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
