"""IRSTD scores for mmseg's evaluator: IoU, nIoU, Pd, Fa, precision, recall, F1.

Scoring happens at each image's native resolution (mmseg resizes predictions
to ``ori_shape`` before the evaluator sees them). Pd/Fa follow BasicIRSTD's
``PD_FA`` exactly (8-connected components, greedy centroid matching closer
than 3 px, Fa = pixels of unmatched predicted components / all pixels).

Each image leaves only integers (and, with a threshold sweep, a few small
arrays) in ``self.results``, so distributed collection is cheap and the
totals do not depend on how images were split across processes.
"""
import math
import numbers
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS
from scipy.special import expit

from ...thresholds import DEFAULT_THRESHOLD, refuse_moved_settings
from ..functional import (
    DEFAULT_CONNECTIVITY,
    DEFAULT_MATCH_DISTANCE,
    check_detection_settings,
    detect_targets,
    label_components,
    probability_histograms,
    sweep_thresholds,
)
from .irstd_curves import check_sweep_outputs, summarize_sweep, write_sweep_outputs
from .irstd_table import format_metrics_table

__all__ = ['IRSTDMetric', 'detection_settings', 'read_probability_and_target',
           'scored_prediction']

ThresholdSpec = Optional[Union[int, Sequence[float]]]


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 (undefined)."""
    return numerator / denominator if denominator else float('nan')


def _is_count(value) -> bool:
    """Whether ``value`` is an integer >= 1 (bools and floats are not counts)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _float_array(data) -> np.ndarray:
    """float32/float64 numpy view of a tensor or array (half precision widened)."""
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu()
        if data.dtype not in (torch.float32, torch.float64):
            data = data.float()
        return data.numpy()
    array = np.asarray(data)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float32)


def _outside_unit_interval(values: np.ndarray) -> bool:
    """Whether any value is outside [0, 1] or NaN.

    A fast path first: IEEE-754 floats in [+0, 1] have unsigned bit patterns
    from 0 to that of 1.0, while negatives (sign bit), values above 1, inf and
    NaN all compare larger, so one integer max decides the usual case. Only
    when it fails is the exact check run (it accepts -0.0).
    """
    unsigned = np.uint32 if values.dtype == np.float32 else np.uint64
    one_bits = np.asarray(1.0, values.dtype).view(unsigned)
    if np.ascontiguousarray(values).view(unsigned).max() <= one_bits:
        return False
    return bool(np.isnan(values).any() or values.min() < 0 or values.max() > 1)


def read_probability_and_target(data_sample: dict) -> Dict[str, np.ndarray]:
    """Target probability map, binary mask and its flat indices of a sample,
    and the segmentor's prediction (``pred_sem_seg`` as bool) when it has one.

    mmseg 1.2.2 stores ``sigmoid(logits)`` as ``seg_logits`` for single-channel
    heads (already probabilities) and raw logits for multi-channel heads, where
    the target probability is ``softmax(logits)[1]``.
    """
    source = data_sample.get('img_path', '<unknown image>')
    if 'seg_logits' not in data_sample:
        raise ValueError(
            f'{source}: the data sample has no seg_logits; IRSTDMetric '
            'thresholds probabilities, so it needs the segmentor\'s outputs.')
    if 'gt_sem_seg' not in data_sample:
        raise ValueError(f'{source}: the data sample has no gt_sem_seg.')
    # The target first: the probability map is thresholded right after this
    # returns, so reading it last keeps it in cache for that pass.
    target_tensor = torch.as_tensor(data_sample['gt_sem_seg']['data']).detach().cpu()
    shape = target_tensor.shape[-2:]
    target = target_tensor.bool().numpy().reshape(shape)
    target_indices = np.flatnonzero(target)
    # Targets are sparse, so checking the non-zero pixels alone is cheap and
    # catches 0/255 masks and any other value.
    target_values = target_tensor.numpy().reshape(-1)[target_indices]
    if not (target_values == 1).all():
        raise ValueError(
            f'{source}: ground truth has values {np.unique(target_values)[:8]} '
            'besides 0; IRSTD masks must be 0/1 (convert 0/255 masks when '
            'loading).')
    scores = _float_array(data_sample['seg_logits']['data'])
    if scores.ndim != 3 or scores.shape[0] not in (1, 2):
        raise ValueError(
            f'{source}: expected seg_logits of shape (1|2, H, W) for a '
            f'target/background task, got {scores.shape}.')
    if scores.shape[0] == 2:
        # NaN or inf logits would turn into probability NaN (never above the
        # threshold) or 0/1 and be scored as if the model had answered.
        if not np.isfinite(scores).all():
            raise ValueError(
                f'{source}: two-channel seg_logits contain NaN or inf; the model '
                'output is not usable (diverged training or a broken checkpoint?).')
        # The softmax of two logits is the sigmoid of their difference.
        probability = expit(scores[1] - scores[0])
    else:
        probability = scores[0]
        if _outside_unit_interval(probability):
            raise ValueError(
                f'{source}: single-channel seg_logits outside [0, 1] or NaN; mmseg '
                '>= 1.2 stores sigmoid probabilities there, raw logits mean '
                'the segmentor skipped that step.')
    if probability.shape != target.shape:
        raise ValueError(
            f'{source}: prediction shape {probability.shape} differs from '
            f'ground truth shape {target.shape}.')
    arrays = dict(probability=probability, target=target, target_indices=target_indices)
    if 'pred_sem_seg' in data_sample:
        prediction = torch.as_tensor(data_sample['pred_sem_seg']['data']).detach().cpu()
        arrays['prediction'] = prediction.bool().numpy().reshape(prediction.shape[-2:])
        if arrays['prediction'].shape != target.shape:
            raise ValueError(
                f'{source}: pred_sem_seg shape {arrays["prediction"].shape} differs '
                f'from ground truth shape {target.shape}.')
    return arrays


def scored_prediction(probability: np.ndarray,
                      prediction: Optional[np.ndarray]) -> np.ndarray:
    """The mask that is scored and drawn: the segmentor's ``prediction`` (made
    with ``model.decode_head.threshold``), so scores describe the saved masks. A
    sample without one (not made by a segmentor) is thresholded at the heads'
    default."""
    return probability > DEFAULT_THRESHOLD if prediction is None else prediction


def _is_irstd_metric_config(entry: object) -> bool:
    if not isinstance(entry, dict):
        return False
    kind = entry.get('type', '')
    return str(getattr(kind, '__name__', kind)).split('.')[-1] == 'IRSTDMetric'


def detection_settings(evaluator: object) -> Dict[str, Union[float, int]]:
    """``match_distance`` and ``connectivity`` of the IRSTDMetric in ``evaluator``
    (a built ``Evaluator`` or metric, or a config's ``test_evaluator`` /
    ``val_evaluator`` dict or list), IRSTDMetric's defaults when it has none.

    The metric's config is the one place of these settings; the pictures and
    ``tools/infer.py``'s ``targets.csv`` read them here, so they count, number
    and match targets as the scores do.
    """
    metrics = getattr(evaluator, 'metrics', evaluator)
    entries = metrics if isinstance(metrics, (list, tuple)) else [metrics]
    found = []
    for entry in entries:
        if isinstance(entry, IRSTDMetric):
            found.append(dict(match_distance=entry.match_distance,
                              connectivity=entry.connectivity))
        elif _is_irstd_metric_config(entry):
            settings = dict(match_distance=entry.get('match_distance', DEFAULT_MATCH_DISTANCE),
                            connectivity=entry.get('connectivity', DEFAULT_CONNECTIVITY))
            check_detection_settings(**settings)
            found.append(settings)
    if any(settings != found[0] for settings in found):
        raise ValueError(f'the evaluator has IRSTDMetrics with different match_distance / '
                         f'connectivity ({found}); the pictures and targets.csv can follow '
                         'only one: give them the same settings')
    return found[0] if found else dict(match_distance=DEFAULT_MATCH_DISTANCE,
                                       connectivity=DEFAULT_CONNECTIVITY)


@METRICS.register_module()
class IRSTDMetric(BaseMetric):
    """Infrared small target detection metric.

    Reported keys (prefixed ``IRSTD/``): ``IoU``, ``nIoU``, ``Pd``,
    ``Precision``, ``Recall``, ``F1`` in percent (like mmseg's IoUMetric);
    ``Fa`` as a rate (the printed table shows it x1e-6). With a threshold
    sweep also ``ROC_AUC`` and ``PR_AUC`` (pixel level, in [0, 1]; PR_AUC is
    average precision). A ratio with a zero denominator (e.g. Pd on a set
    without targets) is NaN.

    The scored mask is the segmentor's ``pred_sem_seg``, made with
    ``model.decode_head.threshold``: the metric takes no threshold of its own
    (a config giving one is refused, naming that place). A sample without
    ``pred_sem_seg`` is thresholded at the heads' default, 0.5.

    Args:
        match_distance: a predicted component hits a target when their
            centroids are strictly closer than this (pixels). Set here only:
            the pictures and ``tools/infer.py`` read it from this metric's
            config (:func:`detection_settings`).
        connectivity: 8 (diagonal neighbours join, BasicIRSTD) or 4; read
            from here by the pictures and ``tools/infer.py`` as well.
        empty_image_iou: nIoU contribution of an image with neither target
            nor predicted pixels. 0 follows the per-sample IoU used by ACM,
            DNANet and the SeRankDet reference (inter / (eps + union)), so
            published nIoU values stay comparable; 1 rewards the correct
            rejection.
        thresholds: ``None`` (no sweep), a count ``n`` (n thresholds evenly
            spaced inside (0, 1)), or explicit thresholds in [0, 1).
        curve_bins: histogram bins per image for the pixel ROC/PR curves.
        output_dir: where the sweep writes ``irstd_sweep.csv``,
            ``irstd_pixel_curves.csv`` and ``irstd_curves.png``, each in one
            rename (a link, folder or device at one of those names is refused
            when the metric is built, before any image is scored); ``None``
            writes nothing (the AUCs are still reported).
        dataset_groups: ``{name: regex}`` to score a joint test set per data
            set as well (SIRST3: NUAA-SIRST, NUDT-SIRST and IRSTD-1k pooled),
            or, as ``--cfg-options`` can give it (it splits a dict on its
            commas), a list of ``'NAME=REGEX'`` strings:
            ``test_evaluator.dataset_groups="[NUAA=Misc_,NUDT=^[0-9]+$]"``.
            Each image belongs to the one group whose regex is found in its
            ``img_path``; an image matching none or several is an error,
            found before inference by :class:`CheckDatasetGroupsHook`. Adds
            ``NAME/IoU``, ``NAME/nIoU``, ... (threshold-sweep AUCs stay
            pooled) next to the pooled scores.
    """

    default_prefix: Optional[str] = 'IRSTD'

    def __init__(self,
                 match_distance: float = DEFAULT_MATCH_DISTANCE,
                 connectivity: int = DEFAULT_CONNECTIVITY,
                 empty_image_iou: float = 0.0,
                 thresholds: ThresholdSpec = None,
                 curve_bins: int = 1000,
                 output_dir: Optional[str] = None,
                 dataset_groups: Union[Dict[str, str], Sequence[str], None] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        refuse_moved_settings('IRSTDMetric', kwargs, ('threshold', ))
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        check_detection_settings(match_distance, connectivity)
        if isinstance(empty_image_iou, bool) or not isinstance(empty_image_iou, numbers.Real) \
                or not 0 <= empty_image_iou <= 1:
            raise ValueError(f'empty_image_iou is an IoU, so in [0, 1], got {empty_image_iou!r}')
        if not _is_count(curve_bins):
            raise ValueError(f'curve_bins must be an integer >= 1, got {curve_bins!r}')
        self.match_distance = match_distance
        self.connectivity = connectivity
        self.empty_image_iou = empty_image_iou
        self.thresholds = self._resolve_thresholds(thresholds)
        self.curve_bins = curve_bins
        if output_dir is not None:
            check_sweep_outputs(output_dir)
        self.output_dir = output_dir
        self.dataset_groups = self._compile_groups(dataset_groups)

    @staticmethod
    def _compile_groups(groups: Union[Dict[str, str], Sequence[str], None]
                        ) -> Dict[str, 're.Pattern']:
        if groups is None:
            return {}
        if isinstance(groups, (list, tuple)) and groups:
            stray = [item for item in groups if not isinstance(item, str) or '=' not in item]
            if stray:
                # --cfg-options splits a list at every comma, also one inside x{1,3}.
                raise ValueError(
                    f'dataset_groups: {stray!r} in {list(groups)!r} is not "NAME=REGEX"; '
                    'on the command line every comma separates two groups, so write a '
                    'regex without commas (x{1,3} as xx?x?) or set the groups in the config')
            pairs = [item.split('=', 1) for item in groups]
            if len({name for name, _ in pairs}) < len(pairs):
                raise ValueError(f'dataset_groups: a name is given twice in {list(groups)!r}')
            groups = dict(pairs)
        if not isinstance(groups, dict) or not groups:
            raise ValueError(f'dataset_groups must be a non-empty dict name -> regex or a '
                             f'list of "NAME=REGEX" strings, got {groups!r}')
        compiled = {}
        for name, pattern in groups.items():
            if not isinstance(name, str) or not name or '/' in name:
                raise ValueError(f'dataset_groups: a name must be a non-empty string '
                                 f'without "/", got {name!r}')
            try:
                compiled[name] = re.compile(pattern)
            except (re.error, TypeError) as error:
                raise ValueError(f'dataset_groups[{name!r}]: not a regex ({error})') from None
        return compiled

    def _matching_groups(self, img_path: Optional[str]) -> List[str]:
        return [name for name, pattern in self.dataset_groups.items()
                if img_path is not None and pattern.search(img_path)]

    def _group_error(self, img_path: Optional[str], matches: List[str]) -> str:
        return (f'{img_path} matches '
                f'{"no group" if not matches else "the groups " + ", ".join(matches)} of '
                f'{ {name: p.pattern for name, p in self.dataset_groups.items()} }')

    def _group_of(self, img_path: Optional[str]) -> Optional[str]:
        if not self.dataset_groups:
            return None
        matches = self._matching_groups(img_path)
        if len(matches) != 1:
            raise ValueError(f'IRSTDMetric dataset_groups: {self._group_error(img_path, matches)}'
                             '; each test image must belong to exactly one')
        return matches[0]

    def check_dataset_groups(self, dataset) -> None:
        """:meth:`check_image_groups` for every image of ``dataset``."""
        if self.dataset_groups:
            self.check_image_groups([dataset.get_data_info(index).get('img_path')
                                     for index in range(len(dataset))])

    def check_image_groups(self, img_paths: Sequence[str]) -> None:
        """Every image in exactly one group and every group used, else a
        ValueError naming the first few misfits (before any inference)."""
        if not self.dataset_groups:
            return
        misfits, used = [], set()
        for img_path in img_paths:
            matches = self._matching_groups(img_path)
            if len(matches) == 1:
                used.add(matches[0])
            else:
                misfits.append(self._group_error(img_path, matches))
        if misfits:
            shown = '; '.join(misfits[:3])
            more = f' (and {len(misfits) - 3} more)' if len(misfits) > 3 else ''
            raise ValueError(f'IRSTDMetric dataset_groups: {len(misfits)} of {len(img_paths)} '
                             f'images are not in exactly one group: {shown}{more}')
        unused = [name for name in self.dataset_groups if name not in used]
        if unused:
            raise ValueError(f'IRSTDMetric dataset_groups: no image belongs to '
                             f'{", ".join(repr(name) for name in unused)}')

    @staticmethod
    def _resolve_thresholds(thresholds: ThresholdSpec) -> Optional[np.ndarray]:
        if thresholds is None:
            return None
        if isinstance(thresholds, numbers.Number) or isinstance(thresholds, str):
            if not _is_count(thresholds):
                raise ValueError(f'thresholds as a count must be an integer >= 1, '
                                 f'got {thresholds!r}')
            return np.linspace(0, 1, int(thresholds) + 2)[1:-1]
        try:
            values = np.asarray(thresholds, float).ravel()
        except (TypeError, ValueError) as error:
            raise ValueError(f'thresholds must be numbers in [0, 1), got '
                             f'{thresholds!r}') from error
        # NaN fails both comparisons, so it is refused too.
        if len(values) == 0 or not ((values >= 0) & (values < 1)).all():
            raise ValueError(f'thresholds must be a non-empty list in [0, 1), got '
                             f'{list(thresholds)}')
        return np.unique(values)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Reduce each image to counts (see :meth:`score_image`)."""
        for data_sample in data_samples:
            group = self._group_of(data_sample.get('img_path'))
            arrays = read_probability_and_target(data_sample)
            record = self.score_image(**arrays)
            if group is not None:
                record['group'] = group
            self.results.append(record)

    def score_image(self,
                    probability: np.ndarray,
                    target: np.ndarray,
                    target_indices: Optional[np.ndarray] = None,
                    prediction: Optional[np.ndarray] = None) -> dict:
        """Integer record of one image: pixel overlap, targets, false alarms.

        Args:
            probability: ``(H, W)`` target probability.
            target: ``(H, W)`` bool ground truth.
            target_indices: ``np.flatnonzero(target)`` if already known.
            prediction: ``(H, W)`` bool prediction of the segmentor, if any.
        """
        prediction = scored_prediction(probability, prediction)
        targets = label_components(target, self.connectivity, target_indices)
        detection = detect_targets(prediction, target, self.connectivity,
                                   self.match_distance, targets=targets)
        record = dict(
            pixels=int(target.size),
            intersection=int(np.count_nonzero(prediction.ravel()[targets.pixel_indices])),
            predicted_pixels=int(detection.predictions.areas.sum()),
            target_pixels=int(targets.areas.sum()),
            targets=detection.num_targets,
            detected_targets=detection.num_detected,
            false_alarm_pixels=detection.false_alarm_pixels)
        if self.thresholds is not None:
            record['sweep'] = sweep_thresholds(probability, target, targets,
                                               self.thresholds, self.connectivity,
                                               self.match_distance)
            record['histograms'] = probability_histograms(
                probability, target, self.curve_bins)
        return record

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Dataset scores from per-image records (any order gives the same)."""
        if not results:
            raise ValueError(
                'IRSTDMetric received no images: the evaluated dataset is empty '
                '(check the split file and data_root of the val/test dataloader).')
        metrics = self._scores(results)
        for group in self.dataset_groups:
            members = [record for record in results if record.get('group') == group]
            if not members:
                raise ValueError(f'IRSTDMetric dataset_groups: no test image belongs to '
                                 f'{group!r} ({self.dataset_groups[group].pattern})')
            metrics.update({f'{group}/{key}': value
                            for key, value in self._scores(members).items()})
        if self.thresholds is not None:
            sweep = summarize_sweep(results, self.thresholds)
            metrics['ROC_AUC'] = sweep['roc_auc']
            metrics['PR_AUC'] = sweep['pr_auc']
            if self.output_dir is not None:
                paths = write_sweep_outputs(sweep, self.output_dir)
                print_log('IRSTD threshold sweep written to ' +
                          ', '.join(osp.basename(p) for p in paths) +
                          f' in {self.output_dir}', logger='current')
        pooled = {key: value for key, value in metrics.items() if '/' not in key}
        num_targets = sum(record['targets'] for record in results)
        print_log('\n' + format_metrics_table(pooled, len(results), num_targets),
                  logger='current')
        for group in self.dataset_groups:
            members = [record for record in results if record.get('group') == group]
            group_metrics = {key.split('/', 1)[1]: value for key, value in metrics.items()
                             if key.startswith(group + '/')}
            print_log('\n' + format_metrics_table(
                group_metrics, len(members), sum(r['targets'] for r in members),
                title=f'IRSTD scores of {group}'), logger='current')
        return metrics

    def _scores(self, results: List[dict]) -> Dict[str, float]:
        """IoU ... F1 of a set of per-image records."""
        totals = {key: sum(record[key] for record in results)
                  for key in ('pixels', 'intersection', 'predicted_pixels',
                              'target_pixels', 'targets', 'detected_targets',
                              'false_alarm_pixels')}
        union = (totals['predicted_pixels'] + totals['target_pixels']
                 - totals['intersection'])
        per_image_iou = [self._image_iou(record) for record in results]
        return dict(
            IoU=100 * _ratio(totals['intersection'], union),
            # fsum is exactly rounded, so the mean ignores the image order.
            nIoU=100 * math.fsum(per_image_iou) / len(per_image_iou),
            Pd=100 * _ratio(totals['detected_targets'], totals['targets']),
            Fa=_ratio(totals['false_alarm_pixels'], totals['pixels']),
            Precision=100 * _ratio(totals['intersection'],
                                   totals['predicted_pixels']),
            Recall=100 * _ratio(totals['intersection'], totals['target_pixels']),
            F1=100 * _ratio(2 * totals['intersection'],
                            totals['predicted_pixels'] + totals['target_pixels']))

    def _image_iou(self, record: dict) -> float:
        union = (record['predicted_pixels'] + record['target_pixels']
                 - record['intersection'])
        return record['intersection'] / union if union else self.empty_image_iou
