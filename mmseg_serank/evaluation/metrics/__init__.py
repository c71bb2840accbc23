"""IRSTD metrics registered in mmseg's METRICS registry."""
from .irstd_metric import IRSTDMetric, detection_settings, read_probability_and_target
from .irstd_table import format_metrics_table

__all__ = ['IRSTDMetric', 'detection_settings', 'read_probability_and_target',
           'format_metrics_table']
