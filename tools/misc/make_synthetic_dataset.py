"""Make a small synthetic infrared small-target (IRSTD) data set.

Real IRSTD sets cannot be redistributed with the project, so demos and
end-to-end tests train on scenes generated here. They imitate what makes the
task hard: cluttered low-frequency backgrounds (clouds, sky gradients,
horizons with textured ground), sensor noise with fixed-pattern stripes, and
0-4 dim targets of 1-9 px whose brightness is set relative to the local
clutter (mostly detectable, some faint).

Layout written (the project's generic layout)::

    OUT/images/NAME.png   8-bit single-channel (grayscale) scene
    OUT/masks/NAME.png    8-bit mask, 0 background / 255 target
    OUT/splits/train.txt  one NAME a line, no extension
    OUT/splits/test.txt
    OUT/synthetic.json    the settings that made it (its stamp)

It writes only into a new or empty folder, or into one it made itself (it
has the stamp): a real data set's split lists are never replaced.

Images are grayscale like most IR sensors; mmseg's ``LoadImageFromFile``
(``color_type='color'``) turns them into the 3-channel input the model
expects. Each image is generated from its own generator seeded with
``(seed, index)``, so image ``i`` is identical whatever the set sizes are.

Example::

    python tools/misc/make_synthetic_dataset.py data/synthetic_irstd \\
        --num-train 160 --num-test 40 --size 128 --seed 0
"""
import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np

from mmseg_serank.checkpoint import write_atomically

TARGET_COUNT_PROBABILITIES = (0.1, 0.45, 0.25, 0.12, 0.08)  # 0, 1, 2, 3, 4 targets
MIN_TARGET_EXTENT, MAX_TARGET_EXTENT = 1, 9
# A pixel belongs to a target's mask where its point-spread response exceeds
# this fraction of the target's peak, so the mask covers the visible blob.
MASK_FRACTION_OF_PEAK = 0.3
# Marks a folder as this generator's, so running it again may replace its files.
STAMP = 'synthetic.json'
# Gaussian radius (in sigmas) at which the response falls to MASK_FRACTION_OF_PEAK.
MASK_RADIUS_IN_SIGMAS = math.sqrt(2 * math.log(1 / MASK_FRACTION_OF_PEAK))


@dataclass
class Target:
    """One small target: centre (sub-pixel), Gaussian spread and orientation."""

    row: float
    col: float
    sigma_major: float
    sigma_minor: float
    angle: float
    contrast: float


def smooth_noise(rng: np.random.Generator, size: int, octaves: int,
                 persistence: float = 0.5) -> np.ndarray:
    """Fractal (sum of octaves) noise in [-1, 1]: cloud-like low-frequency structure."""
    field = np.zeros((size, size), np.float32)
    amplitude, total = 1.0, 0.0
    for octave in range(octaves):
        cells = 2 + 2**octave
        coarse = rng.standard_normal((cells, cells)).astype(np.float32)
        field += amplitude * cv2.resize(coarse, (size, size),
                                        interpolation=cv2.INTER_CUBIC)
        total += amplitude
        amplitude *= persistence
    field /= total
    return field / max(float(np.abs(field).max()), 1e-6)


def make_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A cluttered scene in grey levels: sky, clouds, or sky over a horizon."""
    rows = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None]
    level = rng.uniform(30, 140)
    gradient = rng.uniform(-40, 40) * rows
    scene = rng.choice(['sky', 'clouds', 'horizon'], p=[0.3, 0.4, 0.3])
    if scene == 'sky':
        clutter = rng.uniform(5, 15) * smooth_noise(rng, size, octaves=4)
    else:
        clouds = smooth_noise(rng, size, octaves=5, persistence=0.55)
        # A soft threshold turns the noise into clouds with bright cores and edges.
        cover = rng.uniform(-0.2, 0.4)
        clutter = rng.uniform(25, 90) / (1 + np.exp(-8 * (clouds - cover)))
    background = level + gradient + clutter
    if scene == 'horizon':
        horizon = rng.uniform(0.55, 0.85) * size
        tilt = rng.uniform(-0.15, 0.15)
        ripple = 2 * smooth_noise(rng, size, octaves=3)[0]
        columns = np.arange(size, dtype=np.float32)
        edge = horizon + tilt * (columns - size / 2) + ripple
        ground_mask = np.arange(size, dtype=np.float32)[:, None] > edge[None, :]
        texture = smooth_noise(rng, size, octaves=6, persistence=0.7)
        ground_level = max(level + rng.uniform(-30, 40), 30.0)  # no clipped black
        ground = ground_level + rng.uniform(8, 25) * texture
        background = np.where(ground_mask, ground, background)
        background = cv2.GaussianBlur(background.astype(np.float32), (3, 3), 0.7)
    return fit_into_sensor_range(background.astype(np.float32))


def fit_into_sensor_range(background: np.ndarray, low: float = 20.0,
                          high: float = 230.0) -> np.ndarray:
    """Lift and compress the scene into [low, high]: clipped flat areas are
    unrealistic and would hide targets; the headroom is left for them."""
    lifted = background + max(0.0, low - float(background.min()))
    peak = float(lifted.max())
    if peak > high:
        lifted = low + (lifted - low) * ((high - low) / (peak - low))
    return lifted


def add_sensor_noise(rng: np.random.Generator,
                     image: np.ndarray) -> Tuple[np.ndarray, float]:
    """Add white Gaussian noise and fixed-pattern stripes; return the noise sigma."""
    size = image.shape[0]
    sigma = float(rng.uniform(1.5, 5.0))
    noisy = image + sigma * rng.standard_normal(image.shape).astype(np.float32)
    if rng.random() < 0.6:
        noisy += rng.uniform(0.3, 1.5) * rng.standard_normal((1, size))  # columns
    if rng.random() < 0.3:
        noisy += rng.uniform(0.3, 1.2) * rng.standard_normal((size, 1))  # rows
    return noisy, sigma


def sample_targets(rng: np.random.Generator, background: np.ndarray,
                   noise_sigma: float) -> List[Target]:
    """Draw 0-4 non-touching targets whose contrast beats the local clutter."""
    size = background.shape[0]
    count = int(rng.choice(len(TARGET_COUNT_PROBABILITIES),
                           p=TARGET_COUNT_PROBABILITIES))
    targets: List[Target] = []
    attempts = 0
    while len(targets) < count and attempts < 100:
        attempts += 1
        extent = rng.uniform(MIN_TARGET_EXTENT, MAX_TARGET_EXTENT)
        sigma_major = extent / (2 * MASK_RADIUS_IN_SIGMAS)
        sigma_minor = sigma_major / rng.uniform(1.0, 1.6)
        radius = MASK_RADIUS_IN_SIGMAS * sigma_major
        margin = radius + 2
        row, col = rng.uniform(margin, size - 1 - margin, size=2)
        if any(math.hypot(row - t.row, col - t.col)
               < radius + MASK_RADIUS_IN_SIGMAS * t.sigma_major + 3 for t in targets):
            continue
        top, left = int(max(row - 6, 0)), int(max(col - 6, 0))
        local_clutter = float(background[top:int(row) + 7, left:int(col) + 7].std())
        # Mostly clearly visible targets, a fifth of them faint.
        snr = rng.uniform(3.0, 5.0) if rng.random() < 0.2 else rng.uniform(6.0, 15.0)
        contrast = snr * math.hypot(noise_sigma, local_clutter)
        targets.append(Target(row, col, sigma_major, sigma_minor,
                              float(rng.uniform(0, math.pi)), contrast))
    return targets


def render_target(target: Target, size: int) -> np.ndarray:
    """The target's elliptical Gaussian point-spread response, brightest pixel 1."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    d_row, d_col = rows - target.row, cols - target.col
    cos_a, sin_a = math.cos(target.angle), math.sin(target.angle)
    along = d_col * cos_a + d_row * sin_a
    across = -d_col * sin_a + d_row * cos_a
    response = np.exp(-0.5 * ((along / target.sigma_major)**2
                              + (across / target.sigma_minor)**2))
    # Normalised to the sampled peak: a sub-pixel target keeps its full contrast
    # in its brightest pixel and always owns at least that pixel of the mask.
    return response / response.max()


def make_sample(seed: int, index: int, size: int) -> Tuple[np.ndarray, np.ndarray, int]:
    """Generate one (image uint8, mask uint8 0/255, target count) triple."""
    rng = np.random.default_rng([seed, index])
    background = make_background(rng, size)
    scene, noise_sigma = add_sensor_noise(rng, background)
    targets = sample_targets(rng, background, noise_sigma)
    mask = np.zeros((size, size), np.uint8)
    for target in targets:
        response = render_target(target, size)
        mask[response >= MASK_FRACTION_OF_PEAK] = 255
        scene += target.contrast * response
    image = np.clip(np.rint(scene), 0, 255).astype(np.uint8)
    return image, mask, len(targets)


def write_png(path: Path, array: np.ndarray) -> None:
    """Write a PNG (in one rename, never through a link) or fail naming the file."""
    encoded, data = cv2.imencode('.png', array)
    if not encoded:
        raise OSError(f'{path}: could not encode the PNG')
    write_atomically(data.tobytes(), path)


def check_out_dir(out: Path) -> None:
    """Refuse a folder that holds files this generator did not write.

    Raises:
        FileExistsError: ``out`` is not a folder, or holds files and no stamp.
    """
    if out.exists() and not out.is_dir():
        raise FileExistsError(f'{out} is not a folder')
    if out.is_dir() and any(out.iterdir()) and not (out / STAMP).is_file():
        raise FileExistsError(
            f'{out} holds files this generator did not write (it has no {STAMP}); its '
            'splits/train.txt and splits/test.txt would be replaced. Give a new or empty '
            'folder.')


def generate_dataset(out_dir, num_train: int = 160, num_test: int = 40,
                     size: int = 128, seed: int = 0) -> List[int]:
    """Write the synthetic set to ``out_dir``; return the target count of each image.

    Images ``0 .. num_train-1`` form the train split, the next ``num_test``
    the test split.
    """
    if num_train < 0 or num_test < 0 or num_train + num_test == 0:
        raise ValueError(f'need a positive number of images, got '
                         f'num_train={num_train}, num_test={num_test}')
    if size < 2 * MAX_TARGET_EXTENT + 8:
        raise ValueError(f'size={size} is too small for targets of up to '
                         f'{MAX_TARGET_EXTENT} px; use at least '
                         f'{2 * MAX_TARGET_EXTENT + 8}')
    out = Path(out_dir)
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = dict(generator='tools/misc/make_synthetic_dataset.py', num_train=num_train,
                    num_test=num_test, size=size, seed=seed)
    write_atomically(json.dumps(settings, indent=2).encode(), out / STAMP)
    for folder in ('images', 'masks', 'splits'):
        (out / folder).mkdir(parents=True, exist_ok=True)
    names = [f'synth_{index:05d}' for index in range(num_train + num_test)]
    counts = []
    for index, name in enumerate(names):
        image, mask, count = make_sample(seed, index, size)
        write_png(out / 'images' / f'{name}.png', image)
        write_png(out / 'masks' / f'{name}.png', mask)
        counts.append(count)
    for split, split_names in (('train', names[:num_train]),
                               ('test', names[num_train:])):
        lines = ''.join(f'{name}\n' for name in split_names)
        write_atomically(lines.encode(), out / 'splits' / f'{split}.txt')
    return counts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='output folder (created if missing)')
    parser.add_argument('--num-train', type=int, default=160)
    parser.add_argument('--num-test', type=int, default=40)
    parser.add_argument('--size', type=int, default=128, help='square image side in px')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        counts = generate_dataset(args.out_dir, args.num_train, args.num_test, args.size,
                                  args.seed)
    except (OSError, ValueError) as error:
        sys.exit(f'error: {error}')
    print(f'Wrote {len(counts)} images ({args.num_train} train, {args.num_test} test, '
          f'{sum(counts)} targets) to {args.out_dir}')


if __name__ == '__main__':
    main()
