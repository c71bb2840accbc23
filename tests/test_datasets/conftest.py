"""Shared fixtures: the real SIRST copy (when present) and tiny generated sets."""
import os
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmseg_serank  # noqa: F401  (registers the transforms and datasets)

REPO_ROOT = Path(__file__).resolve().parents[2]
SIRST_ROOT = Path(os.environ.get(
    'IRSTD_SIRST_ROOT', REPO_ROOT.parent / 'shared' / 'data' / 'sirst')).resolve()


@pytest.fixture(autouse=True)
def mmseg_scope() -> None:
    """Configs name transforms without scope, as mmseg's runner resolves them."""
    init_default_scope('mmseg')


@pytest.fixture(scope='session')
def sirst_root() -> Path:
    if not (SIRST_ROOT / 'idx_427' / 'test.txt').is_file():
        pytest.skip(f'real SIRST data not found at {SIRST_ROOT} '
                    '(set IRSTD_SIRST_ROOT to its folder)')
    return SIRST_ROOT


def write_generic_set(root: Path, names: Iterable[str], size=(24, 32),
                      targets: bool = True) -> Path:
    """Write ROOT/images/NAME.png (grey) and ROOT/masks/NAME.png (0/255), one
    3x3 target a mask, at a position that depends on the name's index."""
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'masks').mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        image = np.full(size, 40 + index, np.uint8)
        mask = np.zeros(size, np.uint8)
        if targets:
            row, col = 2 + index % (size[0] - 5), 2 + (3 * index) % (size[1] - 5)
            mask[row:row + 3, col:col + 3] = 255
            image[mask > 0] = 200
        cv2.imwrite(str(root / 'images' / f'{name}.png'), image)
        cv2.imwrite(str(root / 'masks' / f'{name}.png'), mask)
    return root
