"""Threshold-sweep summary of IRSTDMetric records: curves, AUCs, CSV and PNG."""
import csv
import io
import os
import os.path as osp
from typing import Dict, List

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ...checkpoint.saving import check_replaceable, write_atomically
from ..functional import average_precision, pixel_curves_from_histograms, roc_auc

__all__ = ['check_sweep_outputs', 'summarize_sweep', 'write_sweep_outputs']

SWEEP_FILES = ('irstd_sweep.csv', 'irstd_pixel_curves.csv', 'irstd_curves.png')


def _safe_divide(numerator: np.ndarray, denominator) -> np.ndarray:
    """Element-wise ratio, NaN where the denominator is 0."""
    numerator = np.asarray(numerator, float)
    denominator = np.broadcast_to(np.asarray(denominator, float), numerator.shape)
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def summarize_sweep(results: List[dict], thresholds: np.ndarray) -> dict:
    """Per-threshold scores and pixel ROC/PR curves from per-image records.

    Returns ``thresholds``, ``per_threshold`` (IoU, Precision, Recall, F1, Pd
    in percent and Fa as a rate, one value per threshold), ``pixel_curves``
    (see :func:`pixel_curves_from_histograms`), ``roc_auc`` and ``pr_auc``.
    """
    sweep_totals = {key: np.sum([r['sweep'][key] for r in results], axis=0)
                    for key in results[0]['sweep']}
    target_pixels = sum(r['target_pixels'] for r in results)
    targets = sum(r['targets'] for r in results)
    pixels = sum(r['pixels'] for r in results)
    intersection = sweep_totals['intersection']
    predicted = sweep_totals['predicted_pixels']
    per_threshold = dict(
        IoU=100 * _safe_divide(intersection, predicted + target_pixels - intersection),
        Precision=100 * _safe_divide(intersection, predicted),
        Recall=100 * _safe_divide(intersection, target_pixels),
        F1=100 * _safe_divide(2 * intersection, predicted + target_pixels),
        Pd=100 * _safe_divide(sweep_totals['detected_targets'], targets),
        Fa=_safe_divide(sweep_totals['false_alarm_pixels'], pixels))

    target_hist = np.sum([r['histograms']['target'] for r in results], axis=0)
    background_hist = np.sum([r['histograms']['background'] for r in results], axis=0)
    curves = pixel_curves_from_histograms(target_hist, background_hist)
    has_both_classes = target_hist.sum() > 0 and background_hist.sum() > 0
    return dict(
        thresholds=thresholds,
        per_threshold=per_threshold,
        pixel_curves=curves,
        roc_auc=roc_auc(curves['fpr'], curves['tpr']) if has_both_classes
        else float('nan'),
        pr_auc=average_precision(curves['tpr'], curves['precision'])
        if target_hist.sum() > 0 else float('nan'))


def _write_csv(path: str, columns: Dict[str, np.ndarray]) -> None:
    table = io.StringIO(newline='')
    writer = csv.writer(table)
    writer.writerow(list(columns))
    for row in zip(*columns.values()):
        writer.writerow([f'{value:.10g}' for value in row])
    write_atomically(table.getvalue().encode(), path)


def _plot_curves(summary: dict, path: str) -> None:
    figure = Figure(figsize=(15, 4.6), dpi=100)
    FigureCanvasAgg(figure)
    roc_axes, pr_axes, pdfa_axes = figure.subplots(1, 3)
    curves = summary['pixel_curves']
    roc_axes.plot(curves['fpr'], curves['tpr'], color='tab:blue')
    roc_axes.set(title=f'Pixel ROC (AUC {summary["roc_auc"]:.4f})',
                 xlabel='false positive rate', ylabel='true positive rate',
                 xlim=(0, 1), ylim=(0, 1.01))
    pr_axes.plot(curves['tpr'][1:], curves['precision'][1:], color='tab:green')
    pr_axes.set(title=f'Pixel precision-recall (AP {summary["pr_auc"]:.4f})',
                xlabel='recall', ylabel='precision', xlim=(0, 1), ylim=(0, 1.01))
    scores = summary['per_threshold']
    pdfa_axes.plot(scores['Fa'] * 1e6, scores['Pd'], marker='o', markersize=3,
                   color='tab:red')
    # Fa spans decades across thresholds; symlog keeps 0 on the axis.
    pdfa_axes.set_xscale('symlog', linthresh=1)
    pdfa_axes.set(title='Target level: Pd vs Fa over thresholds',
                  xlabel='Fa (x1e-6, symlog)', ylabel='Pd (%)')
    for axes in (roc_axes, pr_axes, pdfa_axes):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    picture = io.BytesIO()
    figure.savefig(picture, format='png')
    write_atomically(picture.getvalue(), path)


def check_sweep_outputs(output_dir: str) -> None:
    """Refuse, before any image is scored, an ``output_dir`` that is not a
    folder, and a link, folder or device where the sweep will write one of its
    files (a write there would replace it).

    Raises:
        NotADirectoryError: ``output_dir`` exists and is not a folder.
        NotARegularFileError: naming the path and what it is.
    """
    if osp.lexists(output_dir) and not osp.isdir(output_dir):
        raise NotADirectoryError(f'output_dir {output_dir} exists and is not a folder; the '
                                 'threshold sweep writes its CSVs and PNG into a folder')
    for name in SWEEP_FILES:
        check_replaceable(osp.join(output_dir, name))


def write_sweep_outputs(summary: dict, output_dir: str) -> List[str]:
    """Write the per-threshold table, the pixel curves and their plot."""
    os.makedirs(output_dir, exist_ok=True)
    sweep_csv, curves_csv, plot_png = (osp.join(output_dir, name) for name in SWEEP_FILES)
    _write_csv(sweep_csv, dict(threshold=summary['thresholds'],
                               **summary['per_threshold']))
    curves = summary['pixel_curves']
    _write_csv(curves_csv, dict(threshold=curves['threshold'], fpr=curves['fpr'],
                                tpr=curves['tpr'], precision=curves['precision']))
    _plot_curves(summary, plot_png)
    return [sweep_csv, curves_csv, plot_png]
