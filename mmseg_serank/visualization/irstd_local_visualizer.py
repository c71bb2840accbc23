"""mmseg visualiser that draws IRSTD outcomes and sends them to every vis backend."""
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..evaluation.functional import (
    DEFAULT_CONNECTIVITY,
    DEFAULT_MATCH_DISTANCE,
    check_detection_settings,
    detect_targets,
)
from ..evaluation.metrics.irstd_metric import read_probability_and_target, scored_prediction
from ..thresholds import refuse_moved_settings
from .detection_overlay import (
    draw_detection_overlay,
    draw_ground_truth_overlay,
    draw_prediction_overlay,
)
from .picture_io import write_picture

__all__ = ['IRSTDLocalVisualizer']


def _as_bgr_order(image: np.ndarray) -> np.ndarray:
    """RGB(A) -> BGR for the OpenCV drawing; gray stays as it is."""
    return np.ascontiguousarray(image[..., 2::-1]) if image.ndim == 3 else image


@VISUALIZERS.register_module()
class IRSTDLocalVisualizer(SegLocalVisualizer):
    """Hits (green), misses (yellow) and false alarms (red) instead of class colours.

    :class:`SegLocalVisualizer` blends a class-colour map over the image (the
    black background at ``alpha=0.8`` darkens it) and labels classes with boxes
    larger than the targets. Here :meth:`add_datasample` draws
    :func:`draw_detection_overlay` on the unchanged image, enlarged so targets
    of a few pixels stay visible, and hands the picture to every configured
    vis backend (``LocalVisBackend`` files, ``TensorboardVisBackend`` events,
    ...), so mmseg's stock ``SegVisualizationHook`` works with it.

    It draws the segmentor's ``pred_sem_seg`` (``model.decode_head.threshold``,
    the mask IRSTDMetric scores) and takes no threshold, ``match_distance`` or
    ``connectivity`` of its own: :class:`IRSTDVisualizationHook` passes the
    running IRSTDMetric's to each :meth:`add_datasample`, so pictures agree
    with the scores (a call without them uses IRSTDMetric's defaults).

    Args:
        min_display_size: enlarge small images to at least this long side.
        Other arguments: as :class:`SegLocalVisualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 min_display_size: int = 512,
                 **kwargs) -> None:
        refuse_moved_settings('IRSTDLocalVisualizer', kwargs,
                              ('threshold', 'match_distance', 'connectivity'))
        super().__init__(name, image, vis_backends, save_dir, **kwargs)
        self.min_display_size = min_display_size

    def draw_detection(self, image: np.ndarray, data_sample: SegDataSample,
                       match_distance: float = DEFAULT_MATCH_DISTANCE,
                       connectivity: int = DEFAULT_CONNECTIVITY) -> np.ndarray:
        """RGB picture of ``data_sample``'s outcome on ``image`` (RGB or gray, any dtype).

        ``match_distance`` and ``connectivity`` are the IRSTDMetric's (see
        :func:`~mmseg_serank.evaluation.detection_settings`). A sample without
        ``seg_logits`` (a dataset sample, before any prediction) shows its
        ground truth only.
        """
        check_detection_settings(match_distance, connectivity)
        sample = data_sample.to_dict()
        source = sample.get('img_path', '<image>')
        title = osp.splitext(osp.basename(source))[0] if 'img_path' in sample else None
        if 'seg_logits' not in sample and 'gt_sem_seg' in sample:
            target = np.asarray(data_sample.gt_sem_seg.data.cpu())
            if target.shape[-2:] != image.shape[:2]:
                raise ValueError(f'{source}: image is {image.shape[:2]} but the ground '
                                 f'truth is {target.shape[-2:]}')
            target = target.reshape(image.shape[:2])
            picture = draw_ground_truth_overlay(_as_bgr_order(image), target > 0, title,
                                                self.min_display_size, connectivity)
            return np.ascontiguousarray(picture[..., ::-1])
        if 'gt_sem_seg' not in sample:  # inference (MMSegInferencer): nothing to judge by
            predicted = self._prediction_without_truth(data_sample)
            if predicted.shape != image.shape[:2]:
                raise ValueError(f'{source}: image is {image.shape[:2]} but the '
                                 f'prediction is {predicted.shape}')
            picture = draw_prediction_overlay(_as_bgr_order(image), predicted, title,
                                              self.min_display_size, connectivity)
            return np.ascontiguousarray(picture[..., ::-1])
        arrays = read_probability_and_target(sample)
        # The IRSTDMetric rule, so pictures show what was scored.
        prediction = scored_prediction(arrays['probability'], arrays.get('prediction'))
        detection = detect_targets(prediction, arrays['target'], connectivity,
                                   match_distance)
        if image.shape[:2] != arrays['target'].shape:
            raise ValueError(
                f'{source}: image is {image.shape[:2]} but the prediction is '
                f'{arrays["target"].shape}; IRSTD pictures are drawn at native '
                'resolution.')
        picture = draw_detection_overlay(_as_bgr_order(image), detection, title=title,
                                         min_display_size=self.min_display_size)
        return np.ascontiguousarray(picture[..., ::-1])

    @staticmethod
    def _prediction_without_truth(data_sample: SegDataSample) -> np.ndarray:
        """The mask of a sample without ground truth, by the metric's rule."""
        if 'pred_sem_seg' in data_sample:
            mask = np.asarray(data_sample.pred_sem_seg.data.cpu()) > 0
            return mask.reshape(mask.shape[-2:])
        probability = data_sample.seg_logits.data
        if probability.shape[0] != 1:  # multi-channel logits: target = class 1
            probability = probability.softmax(dim=0)[1:2]
        probability = np.asarray(probability.cpu())
        return scored_prediction(probability.reshape(probability.shape[-2:]), None)

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True,
                       **detection_settings) -> None:
        """Draw the outcome and show it, write it to ``out_file``, or else send
        it to every vis backend (as :class:`SegLocalVisualizer` does).

        Outcomes need both prediction and ground truth, so ``draw_gt``,
        ``draw_pred`` and ``with_labels`` do not apply. ``detection_settings``
        are the IRSTDMetric's ``match_distance`` and ``connectivity``
        (:meth:`draw_detection`).

        Raises:
            ValueError: the sample has no ``seg_logits`` or ``gt_sem_seg``, or
                their size differs from the image's.
            OSError: ``out_file`` cannot be written (named).
        """
        if data_sample is None:
            raise ValueError(f'{name}: IRSTDLocalVisualizer needs a data sample with '
                             'seg_logits and gt_sem_seg to draw outcomes')
        refuse_moved_settings('IRSTDLocalVisualizer.add_datasample', detection_settings,
                              ('threshold', ))
        picture = self.draw_detection(image, data_sample, **detection_settings)
        self.set_image(picture)
        if show:
            self.show(picture, win_name=name, wait_time=wait_time)
        if out_file is not None:
            # As mmcv.imwrite in SegLocalVisualizer: the folder is made (MMSegInferencer's
            # out_dir/vis does not exist yet).
            os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
            write_picture(out_file, np.ascontiguousarray(picture[..., ::-1]))
        else:
            self.add_image(name, picture, step)
