"""Detect infrared small targets in images, folders or globs with a trained model.

Writes per image the target probability map, the binary mask and an overlay,
plus one ``targets.csv`` and ``targets.json`` listing every detected target
(image, centroid, area, bounding box, peak score): IRSTD users need target
positions, not only masks.

Example::

    python tools/infer.py CONFIG CKPT data/frames/ 'more/*.png' --out results/
"""
import argparse
import csv
import glob
import json
import os.path as osp
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.utils import ProgressBar, mkdir_or_exist

import mmseg_serank  # noqa: F401  (compat patches must precede mmseg.apis)
from mmseg_serank.apis import CHECKPOINT_ERRORS, load_checkpoint_strict
from mmseg_serank.datasets.irstd_dataset import IRSTDDataset

# isort: split
from mmseg.apis import init_model

IMAGE_SUFFIXES = ('.png', '.bmp', '.tif', '.tiff', '.jpg', '.jpeg')
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadIRAnnotations', 'BinarizeMask')
TARGET_FIELDS = ('image', 'target', 'centroid_x', 'centroid_y', 'area',
                 'bbox_x', 'bbox_y', 'bbox_w', 'bbox_h', 'peak_score')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders or glob patterns')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images of equal size are batched up to this')
    parser.add_argument('--threshold', type=float, default=None,
                        help="probability threshold (default: the model's)")
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
                                if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            candidates = [path]
        else:
            candidates = [Path(p) for p in sorted(glob.glob(item))]
            if not candidates:
                raise FileNotFoundError(f'No image matches input "{item}"')
        for candidate in candidates:
            found[candidate.resolve()] = None
    if not found:
        raise FileNotFoundError(f'No images found in {list(inputs)}')
    return list(found)


def unique_stems(paths: Sequence[Path]) -> Dict[Path, str]:
    """Output names per image; equal file names from different folders get a suffix."""
    counts: Dict[str, int] = defaultdict(int)
    stems = {}
    for path in paths:
        counts[path.stem] += 1
        count = counts[path.stem]
        stems[path] = path.stem if count == 1 else f'{path.stem}_{count - 1}'
    return stems


def build_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline without annotation loading."""
    steps = [step for step in cfg.test_dataloader.dataset.pipeline
             if step['type'] not in ANNOTATION_LOADERS]
    return Compose(steps)


def size_batches(samples: List[dict], batch_size: int) -> Iterator[List[dict]]:
    """Batches of images that share a size, so no image is resized or padded."""
    by_size: Dict[tuple, List[dict]] = defaultdict(list)
    for sample in samples:
        by_size[tuple(sample['inputs'].shape[-2:])].append(sample)
    for group in by_size.values():
        for start in range(0, len(group), batch_size):
            yield group[start:start + batch_size]


def describe_targets(image_name: str, mask: np.ndarray,
                     probability: np.ndarray) -> List[dict]:
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
            bbox_h=int(h), peak_score=round(float(peaks[index]), 4)))
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


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = init_model(cfg, device=args.device)  # loaded strictly next
    try:
        checkpoint = load_checkpoint_strict(model, args.checkpoint)
    except CHECKPOINT_ERRORS as error:
        raise SystemExit(f'error: {error}') from None
    model.dataset_meta = checkpoint.get('meta', {}).get('dataset_meta',
                                                        dict(IRSTDDataset.METAINFO))
    threshold = (args.threshold if args.threshold is not None
                 else model.decode_head.threshold)
    pipeline = build_pipeline(model.cfg)
    images = collect_images(args.inputs)
    stems = unique_stems(images)
    out_dir = Path(args.out)
    mkdir_or_exist(str(out_dir))

    samples = []
    for path in images:
        sample = pipeline(dict(img_path=str(path), seg_fields=[]))
        sample['source_path'] = path
        samples.append(sample)

    all_targets: List[dict] = []
    progress = ProgressBar(len(samples))
    for batch in size_batches(samples, args.batch_size):
        with torch.no_grad():
            results = model.test_step(pseudo_collate(
                [dict(inputs=s['inputs'], data_samples=s['data_samples'])
                 for s in batch]))
        for sample, result in zip(batch, results):
            logits = result.seg_logits.data[0].float()
            probability = torch.sigmoid(logits).cpu().numpy()
            mask = probability > threshold
            stem = stems[sample['source_path']]
            targets = describe_targets(stem, mask, probability)
            all_targets.extend(targets)
            image = sample['inputs'].permute(1, 2, 0).numpy().copy()
            if image.shape[:2] != mask.shape:  # a resizing test pipeline
                image = cv2.resize(image, mask.shape[::-1])
            cv2.imwrite(osp.join(out_dir, f'{stem}_prob.png'),
                        np.round(probability * 255).astype(np.uint8))
            cv2.imwrite(osp.join(out_dir, f'{stem}_mask.png'),
                        mask.astype(np.uint8) * 255)
            cv2.imwrite(osp.join(out_dir, f'{stem}_overlay.png'),
                        draw_overlay(image, mask, targets))
            progress.update()

    with open(out_dir / 'targets.csv', 'w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=TARGET_FIELDS)
        writer.writeheader()
        writer.writerows(all_targets)
    with open(out_dir / 'targets.json', 'w') as handle:
        json.dump(dict(threshold=threshold, num_images=len(samples),
                       targets=all_targets), handle, indent=2)
    print(f'\n{len(all_targets)} targets in {len(samples)} images -> {out_dir}')


if __name__ == '__main__':
    main()
