"""Text table of IRSTD scores, shared by IRSTDMetric's log and tools/test.py."""
from typing import Dict, Optional

from prettytable import PrettyTable

__all__ = ['format_metrics_table']

_PERCENT_KEYS = ('IoU', 'nIoU', 'Pd', 'Precision', 'Recall', 'F1')


def format_metrics_table(metrics: Dict[str, float],
                         num_images: Optional[int] = None,
                         num_targets: Optional[int] = None,
                         title: str = 'IRSTD scores') -> str:
    """Percent scores with 2 decimals, Fa x1e-6, AUCs with 4 decimals.

    Keys may carry a prefix (``IRSTD/IoU``); unknown keys are left out.
    """
    plain = {key.split('/')[-1]: value for key, value in metrics.items()}
    table = PrettyTable()
    for key in _PERCENT_KEYS:
        if key in plain:
            table.add_column(f'{key} (%)', [f'{plain[key]:.2f}'])
    if 'Fa' in plain:
        table.add_column('Fa (x1e-6)', [f'{plain["Fa"] * 1e6:.2f}'])
    for key in ('ROC_AUC', 'PR_AUC'):
        if key in plain:
            table.add_column(key, [f'{plain[key]:.4f}'])
    if num_images is not None:
        title += f' on {num_images} images'
    if num_targets is not None:
        title += f' ({num_targets} targets)'
    table.title = title
    return table.get_string()
