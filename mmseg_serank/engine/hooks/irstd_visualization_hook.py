"""mmseg's SegVisualizationHook for IRSTD: native-range images, the metric's settings."""
import os.path as osp
import warnings
from typing import Optional, Sequence

import cv2
import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmengine.runner import Runner
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from ...evaluation.metrics import detection_settings
from ...thresholds import refuse_moved_settings
from ...visualization import IRSTDLocalVisualizer, prepare_picture_dir

__all__ = ['IRSTDVisualizationHook']


@HOOKS.register_module()
class IRSTDVisualizationHook(SegVisualizationHook):
    """Draw hits, misses and false alarms through the runner's visualiser.

    The drawing and the vis backends (local files, TensorBoard, ...) are the
    runner's :class:`IRSTDLocalVisualizer`'s, as with the stock hook (with
    another visualiser in the config, an IRSTDLocalVisualizer draws and that
    visualiser's backends store the pictures). This subclass
    changes only what the stock hook cannot do for IRSTD images:

    - it decodes images unchanged (the stock hook converts to 8-bit colour,
      which shifts 16-bit infrared frames to near black); the visualiser
      normalises them for display;
    - it draws the segmentor's ``pred_sem_seg`` (``model.decode_head.threshold``)
      with the running loop's IRSTDMetric ``match_distance`` and
      ``connectivity`` (its defaults without one), so the pictures agree with
      the scores; it takes none of these settings itself;
    - with ``out_dir`` it writes one ``<image name>.png`` per image there
      (validation: ``val_iter_<iteration>/``), checking the folder before the
      first batch; without it the pictures go to the visualiser's backends as
      ``<mode>_<image name>`` at step ``runner.iter``.

    Args:
        draw, interval, show, wait_time, backend_args: as
            :class:`SegVisualizationHook` (``interval`` defaults to every batch).
        out_dir: folder for one picture file per image (``tools/test.py
            --show-dir``); ``None`` sends the pictures to the vis backends.
    """

    priority = 'LOW'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 1,
                 show: bool = False,
                 wait_time: float = 0.,
                 backend_args: Optional[dict] = None,
                 out_dir: Optional[str] = None,
                 **settings) -> None:
        refuse_moved_settings('IRSTDVisualizationHook', settings,
                              ('threshold', 'match_distance', 'connectivity'))
        if settings:
            raise TypeError(f'IRSTDVisualizationHook got unexpected arguments {sorted(settings)}')
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        with warnings.catch_warnings():
            # Off is this hook's normal state in the configs (--show-dir turns it on);
            # the stock hook would warn about it in every training and test run.
            warnings.filterwarnings('ignore', message='The draw is False')
            super().__init__(draw=draw, interval=interval, show=show, wait_time=wait_time,
                             backend_args=backend_args)
        if not isinstance(self._visualizer, IRSTDLocalVisualizer):
            # A config with another visualiser (or none): draw with an
            # IRSTDLocalVisualizer that stores through that visualiser's backends.
            drawing = IRSTDLocalVisualizer(name=f'{self._visualizer.instance_name}_irstd')
            drawing._vis_backends = self._visualizer._vis_backends
            self._visualizer = drawing
        self.out_dir = out_dir

    def before_run(self, runner: Runner) -> None:
        """Fail before the first batch, not after it, if no picture can be saved."""
        if self.draw and self.out_dir is not None:
            prepare_picture_dir(self.out_dir)

    def _read_image(self, path: str) -> np.ndarray:
        """The image as stored (gray or RGB, any depth), in RGB order."""
        image = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args),
                                 flag='unchanged')
        if image is None:
            raise ValueError(f'{path}: cannot decode the image to draw')
        if image.ndim == 3 and image.shape[2] == 4:
            return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
        if image.ndim == 3 and image.shape[2] == 3:
            return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return image.reshape(image.shape[:2])

    def _after_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence[SegDataSample], mode: str = 'val') -> None:
        if not self.draw or mode == 'train' or not self.every_n_inner_iters(
                batch_idx, self.interval):
            return
        out_dir = self.out_dir
        if out_dir is not None and mode == 'val':
            out_dir = osp.join(out_dir, f'val_iter_{runner.iter}')
        if out_dir is not None:
            prepare_picture_dir(out_dir)
        loop = getattr(runner, f'{mode}_loop', None)
        settings = detection_settings(getattr(loop, 'evaluator', None))
        for output in outputs:
            stem = osp.splitext(osp.basename(output.img_path))[0]
            self._visualizer.add_datasample(
                f'{mode}_{stem}', self._read_image(output.img_path), data_sample=output,
                show=self.show, wait_time=self.wait_time, step=runner.iter,
                out_file=None if out_dir is None else osp.join(out_dir, f'{stem}.png'),
                **settings)
