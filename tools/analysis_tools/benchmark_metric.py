"""Compare IRSTDMetric with BasicIRSTD's metrics.py: same numbers, and how fast.

Builds deterministic perturbed predictions (dilate, erode, shift, drop targets,
add false alarms) for the SIRST test split at native resolution, scores them
with BasicIRSTD's ``mIoU`` and ``PD_FA`` and with ``IRSTDMetric`` in the same
process, asserts IoU, nIoU, Pd and Fa agree and prints both timings.

BasicIRSTD needs scikit-image, which this project does not depend on; keep it
outside the project environment, e.g.::

    mkdir -p /tmp/basicirstd
    git -C BasicIRSTD archive HEAD metrics.py | tar -x -C /tmp/basicirstd
    python -m pip install --target /tmp/bench-deps scikit-image
    python tools/analysis_tools/benchmark_metric.py --sirst-root data/sirst \\
        --basicirstd-dir /tmp/basicirstd --extra-path /tmp/bench-deps

BasicIRSTD's nIoU is not in metrics.py; its ``batch_intersection_union`` is
applied per image (inter / (eps + union), the ACM convention) for comparison.
``PD_FA.get`` calls ``.cpu()`` on a numpy value, so Pd and Fa are read from
the accumulated attributes with the same formulas.
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch

import mmseg_serank  # noqa: F401  (registers IRSTDMetric)
from mmseg_serank.evaluation.metrics import IRSTDMetric

Pair = Tuple[np.ndarray, np.ndarray]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sirst-root', default='data/sirst',
                        help='SIRST root with images/, masks/, idx_427/')
    parser.add_argument('--split', default='idx_427/test.txt')
    parser.add_argument('--basicirstd-dir', default='/tmp/basicirstd',
                        help='directory holding BasicIRSTD metrics.py')
    parser.add_argument('--extra-path', action='append', default=[],
                        help='directory appended to sys.path, after the '
                        "project's own packages (e.g. where scikit-image is)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch and OpenCV threads (1 keeps timings stable '
                        'on a shared machine)')
    parser.add_argument('--repeats', type=int, default=10,
                        help='timed runs of each implementation; the best is kept')
    return parser.parse_args()


def load_basicirstd(path: str):
    """Import BasicIRSTD's metrics.py by path (its name would shadow others)."""
    if not osp.isfile(path):
        raise SystemExit(f'{path}: BasicIRSTD metrics.py not found; see the '
                         'module docstring for how to fetch it')
    spec = importlib.util.spec_from_file_location('basicirstd_metrics', path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as error:
        raise SystemExit(f'{path}: cannot import it ({error}); is scikit-image '
                         'on --extra-path?') from error
    return module


def load_masks(root: str, split: str) -> List[np.ndarray]:
    split_file = osp.join(root, split)
    if not osp.isfile(split_file):
        raise SystemExit(f'{split_file}: split file not found (pass --sirst-root)')
    with open(split_file) as handle:
        names = [line.strip() for line in handle if line.strip()]
    masks = []
    for name in names:
        path = osp.join(root, 'masks', f'{name}_pixels0.png')
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise SystemExit(f'{path}: cannot read mask')
        masks.append(mask > 127)
    return masks


def perturb(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible imperfect prediction of ``mask``."""
    prediction = mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    if rng.random() < 0.3:
        prediction = cv2.dilate(prediction, kernel)
    elif rng.random() < 0.3:
        prediction = cv2.erode(prediction, kernel)
    if rng.random() < 0.5:
        shift_y, shift_x = rng.integers(-4, 5, size=2)
        shifted = np.zeros_like(prediction)
        height, width = prediction.shape
        shifted[max(shift_y, 0):height + min(shift_y, 0),
                max(shift_x, 0):width + min(shift_x, 0)] = \
            prediction[max(-shift_y, 0):height + min(-shift_y, 0),
                       max(-shift_x, 0):width + min(-shift_x, 0)]
        prediction = shifted
    if rng.random() < 0.3:
        count, labels = cv2.connectedComponents(prediction, connectivity=8)
        if count > 1:
            prediction[labels == rng.integers(1, count)] = 0
    for _ in range(rng.integers(0, 5) if rng.random() < 0.6 else 0):
        height, width = rng.integers(1, 7, size=2)
        top = rng.integers(0, prediction.shape[0] - height)
        left = rng.integers(0, prediction.shape[1] - width)
        prediction[top:top + height, left:left + width] = 1
    return prediction.astype(bool)


def run_basicirstd(module, pairs: List[Pair]) -> Dict[str, float]:
    """BasicIRSTD's metrics on (1, 1, H, W) float tensors, as its test.py feeds."""
    iou_metric = module.mIoU()
    pd_fa = module.PD_FA()
    image_ious = []
    for pred_tensor, target_tensor in pairs:
        iou_metric.update(pred_tensor, target_tensor)
        inter, union = module.batch_intersection_union(pred_tensor, target_tensor)
        image_ious.append(float(inter[0] / (np.spacing(1) + union[0])))
        pd_fa.update(pred_tensor[0, 0], target_tensor[0, 0], pred_tensor.shape[-2:])
    return dict(IoU=100 * float(iou_metric.get()[1]),
                nIoU=100 * float(np.mean(image_ious)),
                Pd=100 * pd_fa.PD / pd_fa.target,
                Fa=float(pd_fa.dismatch_pixel / pd_fa.all_pixel))


def run_ours(samples: List[dict]) -> Dict[str, float]:
    """IRSTDMetric on mmseg-style data samples (probabilities, int64 masks)."""
    metric = IRSTDMetric()
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def best_times(functions: Sequence[Callable], repeats: int) -> List[Tuple[float, Dict]]:
    """Best wall time and result of each function, the runs interleaved so a
    slow spell of a shared machine hits every implementation alike."""
    timings = [[] for _ in functions]
    results: List[Dict] = [{} for _ in functions]
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = time.perf_counter()
            results[index] = function()
            timings[index].append(time.perf_counter() - start)
    return [(min(times), result) for times, result in zip(timings, results)]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    sys.path.append(args.basicirstd_dir)
    sys.path.extend(args.extra_path)
    basicirstd = load_basicirstd(osp.join(args.basicirstd_dir, 'metrics.py'))
    rng = np.random.default_rng(args.seed)
    masks = load_masks(args.sirst_root, args.split)
    pairs = [(perturb(mask, rng), mask) for mask in masks]
    print(f'{len(pairs)} images, {sum(m.size for m in masks)} pixels')
    # Inputs are converted once, outside the timings, to each side's format.
    their_inputs = [(torch.from_numpy(p).float()[None, None],
                     torch.from_numpy(t).float()[None, None]) for p, t in pairs]
    our_inputs = [dict(seg_logits=dict(data=torch.from_numpy(p).float()[None]),
                       gt_sem_seg=dict(data=torch.from_numpy(t).long()[None]))
                  for p, t in pairs]

    (theirs_s, theirs), (ours_s, ours) = best_times(
        [lambda: run_basicirstd(basicirstd, their_inputs), lambda: run_ours(our_inputs)],
        args.repeats)
    print(f'{"metric":8s} {"BasicIRSTD":>14s} {"IRSTDMetric":>14s}')
    for key in ('IoU', 'nIoU', 'Pd', 'Fa'):
        print(f'{key:8s} {theirs[key]:14.10g} {ours[key]:14.10g}')
    mismatched = [key for key in theirs
                  if not np.isclose(theirs[key], ours[key], rtol=1e-9, atol=1e-12)]
    print(f'BasicIRSTD: {theirs_s * 1000:.1f} ms   IRSTDMetric: {ours_s * 1000:.1f} ms'
          f'   speed-up: {theirs_s / ours_s:.1f}x (best of {args.repeats})')
    if mismatched:
        raise SystemExit(f'MISMATCH in {mismatched}')
    print('EQUAL: IoU, nIoU, Pd and Fa agree')


if __name__ == '__main__':
    main()
