"""Training throughput (images/s) of configs in fp32 and with AMP, side by side.

Usage::

    python tools/analysis/benchmark_train_speed.py CONFIG [CONFIG ...] \
        [--iters 20] [--warmup 5] [--modes fp32 amp] [--cfg-options k=v ...]

Each config's model, optimizer wrapper and train dataloader are built as
``tools/train.py`` builds them. A few batches are drawn once and kept in
memory, so the number measures the training step (forward, loss, backward,
optimizer) and not the data loader. For every config the precision modes
run interleaved (fp32, amp, fp32, amp, ...) after a warm-up, and the median
and spread of the per-iteration time are printed as images/s, with the
AMP/fp32 ratio measured in the same process.
"""
import argparse
import copy
import statistics
import time
from typing import Dict, List, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers modules, applies compat patches)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per mode')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations per mode')
    parser.add_argument('--rounds', type=int, default=4,
                        help='the timed iterations are split into this many interleaved rounds')
    parser.add_argument('--modes', nargs='+', default=['fp32', 'amp'], choices=['fp32', 'amp'])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    if args.iters < args.rounds or args.rounds < 1:
        parser.error('--iters must be at least --rounds (>= 1)')
    return args


def optim_wrapper_config(cfg: Config, mode: str) -> dict:
    wrapper = copy.deepcopy(cfg.optim_wrapper)
    if mode == 'amp':
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper['loss_scale'] = 'dynamic'
    return wrapper


def cached_batches(cfg: Config, count: int) -> List[dict]:
    loader = Runner.build_dataloader(cfg.train_dataloader)
    batches = []
    while len(batches) < count:
        for batch in loader:
            batches.append(batch)
            if len(batches) == count:
                break
    return batches


def timed_steps(model, wrapper, batches: List[dict], steps: int, device: str) -> List[float]:
    times = []
    for step in range(steps):
        batch = batches[step % len(batches)]
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.train_step(batch, wrapper)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def benchmark(config: str, args: argparse.Namespace) -> Tuple[int, Dict[str, List[float]]]:
    """The batch size and each mode's seconds per image, one entry per timed step."""
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    batch_size = cfg.train_dataloader.batch_size
    batches = cached_batches(cfg, 4)
    torch.manual_seed(0)
    models, wrappers = {}, {}
    for mode in args.modes:
        model = MODELS.build(copy.deepcopy(cfg.model)).to(args.device).train()
        models[mode] = model
        wrappers[mode] = build_optim_wrapper(model, optim_wrapper_config(cfg, mode))
        timed_steps(model, wrappers[mode], batches, args.warmup, args.device)
    per_image: Dict[str, List[float]] = {mode: [] for mode in args.modes}
    per_round = args.iters // args.rounds
    for _ in range(args.rounds):
        for mode in args.modes:
            times = timed_steps(models[mode], wrappers[mode], batches, per_round, args.device)
            per_image[mode].extend(t / batch_size for t in times)
    return batch_size, per_image


def main() -> None:
    args = parse_args()
    device_name = (torch.cuda.get_device_name() if args.device.startswith('cuda')
                   else f'CPU, {torch.get_num_threads()} threads')
    print(f'device: {device_name}; torch {torch.__version__}')
    print('| config | batch | mode | images/s (median) | min-max | vs fp32 |')
    print('|---|---|---|---|---|---|')
    for config in args.configs:
        batch, per_image = benchmark(config, args)
        fp32 = statistics.median(per_image['fp32']) if 'fp32' in per_image else None
        for mode, times in per_image.items():
            median = statistics.median(times)
            ratio = f'{fp32 / median:.2f}x' if fp32 else '-'
            print(f'| {config.split("/")[-1]} | {batch} | {mode} | {1 / median:.1f} | '
                  f'{1 / max(times):.1f}-{1 / min(times):.1f} | {ratio} |', flush=True)


if __name__ == '__main__':
    main()
