"""Multiply-adds and CPU latency of a built model, as the analysis tools report them."""
import statistics
import time

import torch
from mmengine.analysis import get_model_complexity_info

__all__ = ['count_macs', 'median_latency']


def median_latency(model: torch.nn.Module, inputs: torch.Tensor, runs: int) -> float:
    times = []
    with torch.no_grad():
        model(inputs, mode='tensor')
        for _ in range(runs):
            start = time.perf_counter()
            model(inputs, mode='tensor')
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_macs(model: torch.nn.Module, inputs: torch.Tensor) -> float:
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=(inputs, ), show_table=False,
                                         show_arch=False)
    return float(info['flops'])
