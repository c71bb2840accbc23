"""Write hit / miss / false-alarm pictures during validation and testing.

mmseg's SegVisualizationHook paints class colours, which hides targets of a
few pixels; this hook draws IRSTD outcomes instead (see
:func:`mmseg_serank.visualization.draw_detection_overlay`).
"""
import os
import os.path as osp
import warnings
from typing import Optional, Sequence

import mmcv
import mmengine.fileio as fileio
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ...evaluation.functional import check_detection_settings, detect_targets
from ...evaluation.metrics.irstd_metric import (
    read_probability_and_target,
    scored_prediction,
)
from ...thresholds import check_threshold
from ...visualization import draw_detection_overlay, prepare_picture_dir, write_picture

__all__ = ['IRSTDVisualizationHook']


@HOOKS.register_module()
class IRSTDVisualizationHook(Hook):
    """Save one PNG per image showing hits, misses and false alarms.

    Use the same ``threshold``, ``match_distance`` and ``connectivity`` as
    the IRSTDMetric so the pictures agree with the scores.

    Args:
        draw: off by default, like mmseg's hook (tools/test.py --show-dir
            turns it on).
        interval: draw the images of every ``interval``-th batch.
        out_dir: output directory; default ``<work_dir>/<timestamp>/irstd_vis``.
            Test pictures go there directly, validation pictures into
            ``val_iter_<iteration>`` sub-directories.
        threshold: ``None`` (default) draws the segmentor's ``pred_sem_seg``
            (the head's threshold); a value must agree with it, as in
            :class:`~mmseg_serank.evaluation.IRSTDMetric`.
        match_distance: centroid distance (px) below which a prediction hits.
        connectivity: 8 or 4.
        min_display_size: enlarge small images to at least this long side.
        backend_args: mmengine file backend arguments for reading images.
        show, wait_time: set by mmseg's stock ``tools/test.py --show``; there
            is no window here, so ``show`` only warns and pictures are saved.

    mmseg's stock ``tools/test.py --show-dir DIR`` (and ``mim test``) turns
    ``draw`` on and sets ``visualizer.save_dir``; without ``out_dir`` the
    pictures go to ``DIR/irstd_vis``, so the stock entry points give these
    pictures too.
    """

    priority = 'LOW'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 1,
                 out_dir: Optional[str] = None,
                 threshold: Optional[float] = None,
                 match_distance: float = 3.0,
                 connectivity: int = 8,
                 min_display_size: int = 512,
                 backend_args: Optional[dict] = None,
                 show: bool = False,
                 wait_time: float = 0.0) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        check_detection_settings(match_distance, connectivity)
        if show:
            warnings.warn('IRSTDVisualizationHook cannot open windows; the '
                          'pictures are saved instead (see out_dir).', stacklevel=2)
        self.draw = draw
        self.interval = interval
        self.out_dir = out_dir
        self.threshold = (None if threshold is None else
                          check_threshold(threshold, 'IRSTDVisualizationHook threshold'))
        self.match_distance = match_distance
        self.connectivity = connectivity
        self.min_display_size = min_display_size
        self.backend_args = backend_args

    def _base_dir(self, runner: Runner) -> str:
        if self.out_dir is not None:
            return self.out_dir
        save_dir = (runner.cfg.get('visualizer') or {}).get('save_dir')
        if save_dir:  # mmseg's stock tools/test.py --show-dir
            return osp.join(save_dir, 'irstd_vis')
        return osp.join(runner.work_dir, runner.timestamp, 'irstd_vis')

    def before_run(self, runner: Runner) -> None:
        """Fail before the first batch, not after it, if no picture can be saved."""
        if self.draw:
            prepare_picture_dir(self._base_dir(runner))

    def after_val_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[SegDataSample]) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx, self.interval):
            out_dir = osp.join(self._base_dir(runner), f'val_iter_{runner.iter}')
            self.draw_samples(outputs, out_dir)

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[SegDataSample]) -> None:
        if self.draw and self.every_n_inner_iters(batch_idx, self.interval):
            self.draw_samples(outputs, self._base_dir(runner))

    def draw_samples(self, data_samples: Sequence[SegDataSample], out_dir: str) -> None:
        """Draw each sample (prediction, ground truth, image file) to ``out_dir``.

        Raises OSError naming the path when a folder or picture cannot be written.
        """
        os.makedirs(out_dir, exist_ok=True)
        for data_sample in data_samples:
            sample = data_sample.to_dict()
            arrays = read_probability_and_target(sample)
            # The IRSTDMetric rule, so pictures show what was scored.
            prediction = scored_prediction(arrays['probability'],
                                           arrays.get('prediction'), self.threshold)
            detection = detect_targets(prediction,
                                       arrays['target'], self.connectivity,
                                       self.match_distance)
            image_path = sample['img_path']
            image = mmcv.imfrombytes(
                fileio.get(image_path, backend_args=self.backend_args),
                flag='unchanged')
            if image is None:
                raise ValueError(f'{image_path}: cannot decode the image to draw')
            if image.shape[:2] != arrays['target'].shape:
                raise ValueError(
                    f'{image_path}: image is {image.shape[:2]} but the '
                    f'prediction is {arrays["target"].shape}; IRSTD pictures '
                    'are drawn at native resolution.')
            name = osp.splitext(osp.basename(image_path))[0]
            picture = draw_detection_overlay(image, detection, title=name,
                                             min_display_size=self.min_display_size)
            write_picture(osp.join(out_dir, f'{name}.png'), picture)
