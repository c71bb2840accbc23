"""Training throughput (images/s) of configs in fp32 and with AMP, side by side.

Usage::

    python tools/analysis_tools/benchmark_train_speed.py CONFIG [CONFIG ...] \
        [--iters 20] [--warmup 5] [--modes fp32 [amp]] [--cfg-options k=v ...] \
        [--reference-dir SERANKDET_CHECKOUT] [--profile DIR]

Each config's model, optimizer wrapper and train dataloader are built as
``tools/train.py`` builds them. A few batches are drawn once and kept in
memory, so the number measures the training step (forward, loss, backward,
optimizer) and not the data loader. For every config the precision modes
run interleaved (fp32, amp, fp32, amp, ...) after a warm-up, and the median
and spread of the per-iteration time are printed as images/s, with the
AMP/fp32 ratio measured in the same process.

With ``--reference-dir`` (a checkout of GrokCV/SeRankDet, einops on PYTHONPATH)
every SeRankDet config at width 64 also times the reference's own step on the
same batches, interleaved with ours: its model, its SoftIoU loss summed over the
six outputs as its train.py does, and the config's optimizer settings; AMP for
it is torch.autocast with a gradient scaler. The last columns give the achieved
TFLOP/s (three times the forward multiply-adds, two FLOPs each, per image) and,
on a GPU whose peak is known, its share of the card's dense peak.

With ``--profile DIR`` one more step of every path runs under torch.profiler
after the timing: its trace goes to ``DIR/CONFIG_PATH.json`` (open it in
chrome://tracing or Perfetto) and its ten most expensive operators by self
time (device time on a GPU) are printed under the table.
"""
import argparse
import copy
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.registry import MODELS

import mmseg_serank  # noqa: F401  (registers modules)
from mmseg_serank.checkpoint.reference import build_reference
from mmseg_serank.checkpoint.saving import write_atomically
from mmseg_serank.utils.cli import check_output_file

# Dense peaks (TFLOP/s, SXM cards) by device name: fp32 without tensor cores, AMP
# at fp16/bf16 on tensor cores.
PEAK_TFLOPS = {'H200': {'fp32': 67.0, 'amp': 989.0}, 'H100': {'fp32': 67.0, 'amp': 989.0},
               'A100': {'fp32': 19.5, 'amp': 312.0}}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per mode')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations per mode')
    parser.add_argument('--rounds', type=int, default=4,
                        help='the timed iterations are split into this many interleaved rounds')
    parser.add_argument('--modes', nargs='+', default=None, choices=['fp32', 'amp'],
                        help='default: fp32 and amp on CUDA, fp32 elsewhere (mmengine\'s '
                        'AmpOptimWrapper trains on a GPU only)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--reference-dir', default=None,
                        help='a GrokCV/SeRankDet checkout: time its step beside ours '
                        '(SeRankDet configs at width 64)')
    parser.add_argument('--profile', metavar='DIR', default=None,
                        help='profile one step of every path: traces to DIR, top '
                        'operators printed')
    args = parser.parse_args()
    if args.iters < args.rounds or args.rounds < 1:
        parser.error('--iters must be at least --rounds (>= 1)')
    on_gpu = args.device.startswith('cuda')
    if args.modes is None:
        args.modes = ['fp32', 'amp'] if on_gpu else ['fp32']
        if not on_gpu:
            print(f'--device {args.device}: timing fp32 only (AMP needs a CUDA device)')
    elif 'amp' in args.modes and not on_gpu:
        parser.error(f'--modes amp needs a CUDA device (mmengine\'s AmpOptimWrapper trains on '
                     f'a GPU only); --device is {args.device}')
    if args.profile:
        if osp.lexists(args.profile) and not osp.isdir(args.profile):
            parser.error(f'--profile {args.profile} is not a folder')
        try:
            os.makedirs(args.profile, exist_ok=True)
        except OSError as error:
            parser.error(f'--profile {args.profile}: cannot make the folder ({error.strerror})')
        check_output_file(osp.join(args.profile, 'trace.json'), '--profile')
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


class ReferenceStep:
    """The reference's training step: its model, SoftIoU summed over its six
    outputs (its train.py with deep supervision), backward, optimizer step."""

    def __init__(self, model: torch.nn.Module, optimizer_cfg: dict, amp: bool,
                 device: str) -> None:
        self.model = model.to(device).train()
        settings = {k: v for k, v in optimizer_cfg.items() if k != 'type'}
        self.optimizer = getattr(torch.optim, optimizer_cfg['type'])(
            self.model.parameters(), **settings)
        self.amp = amp
        self.device_type = device.split(':')[0]
        self.scaler = torch.amp.GradScaler(self.device_type, enabled=amp)

    @staticmethod
    def soft_iou(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        probability = logits.float().sigmoid()
        intersection = (probability * target).sum()
        return 1 - (intersection + 1) / (probability.sum() + target.sum() - intersection + 1)

    def train_step(self, batch: dict, _wrapper=None) -> None:
        with torch.autocast(self.device_type, enabled=self.amp):
            outputs = self.model(batch['inputs'])
        loss = sum(self.soft_iou(output, batch['target']) for output in outputs)
        self.optimizer.zero_grad()
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()


def reference_batches(model, batches: List[dict]) -> List[dict]:
    """Our batches as the reference takes them: the normalised tensor and a float mask."""
    converted = []
    with torch.no_grad():
        for batch in batches:
            data = model.data_preprocessor(batch, True)
            target = torch.stack([s.gt_sem_seg.data for s in data['data_samples']]).float()
            converted.append(dict(inputs=data['inputs'], target=target))
    return converted


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


def profiled_step(model, wrapper, batch: dict, device: str, trace_path: str) -> str:
    """One training step under torch.profiler: its Chrome trace written to
    ``trace_path`` (only a regular file there is replaced) and the table of the ten
    operators with the most self time, on the device where it is a GPU."""
    from torch.profiler import ProfilerActivity, profile
    on_gpu = device.startswith('cuda')
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_gpu else [])
    with profile(activities=activities) as profiler:
        model.train_step(batch, wrapper)
        if on_gpu:
            torch.cuda.synchronize()
    with tempfile.TemporaryDirectory(dir=osp.dirname(osp.abspath(trace_path))) as folder:
        profiler.export_chrome_trace(osp.join(folder, 'trace.json'))
        with open(osp.join(folder, 'trace.json'), 'rb') as file:
            write_atomically(file.read(), trace_path)
    sort_by = 'self_cuda_time_total' if on_gpu else 'self_cpu_time_total'
    return profiler.key_averages().table(sort_by=sort_by, row_limit=10)


def forward_macs(model, batch: dict) -> float:
    """Multiply-adds of one image's forward pass (mmengine's counter)."""
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs'][:1]
        info = get_model_complexity_info(model, inputs=(inputs, ), show_table=False,
                                         show_arch=False)
    model.train()
    return float(info['flops'])


def has_reference(cfg: Config) -> bool:
    backbone = cfg.model.get('backbone', {})
    return backbone.get('type') == 'SeRankDet' and backbone.get('base_channels', 64) == 64


def benchmark(config: str, args: argparse.Namespace
              ) -> Tuple[int, float, Dict[str, List[float]], Dict[str, str]]:
    """The batch size, forward MACs per image, each path's seconds per image (one
    entry per timed step; paths: our modes, then the reference's) and, with
    ``--profile``, each path's table of top operators."""
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    batch_size = cfg.train_dataloader.batch_size
    batches = cached_batches(cfg, 4)
    torch.manual_seed(0)
    steps, wrappers, inputs = {}, {}, {}
    for mode in args.modes:
        model = MODELS.build(copy.deepcopy(cfg.model)).to(args.device).train()
        steps[mode] = model
        wrappers[mode] = build_optim_wrapper(model, optim_wrapper_config(cfg, mode))
        inputs[mode] = batches
    macs = forward_macs(steps[args.modes[0]], batches[0])
    if args.reference_dir and has_reference(cfg):
        converted = reference_batches(steps[args.modes[0]], batches)
        for mode in args.modes:
            path = f'reference {mode}'
            steps[path] = ReferenceStep(build_reference(args.reference_dir),
                                        cfg.optim_wrapper.optimizer, mode == 'amp',
                                        args.device)
            wrappers[path], inputs[path] = None, converted
    for path in steps:
        timed_steps(steps[path], wrappers[path], inputs[path], args.warmup, args.device)
    per_image: Dict[str, List[float]] = {path: [] for path in steps}
    per_round = args.iters // args.rounds
    for _ in range(args.rounds):
        for path in steps:
            times = timed_steps(steps[path], wrappers[path], inputs[path], per_round,
                                args.device)
            per_image[path].extend(t / batch_size for t in times)
    profiles = {}
    if args.profile:
        name = osp.splitext(osp.basename(config))[0]
        for path in steps:
            trace = osp.join(args.profile, f'{name}_{path.replace(" ", "-")}.json')
            profiles[path] = profiled_step(steps[path], wrappers[path], inputs[path][0],
                                           args.device, trace)
            profiles[path] = f'{path}: one step, trace {trace}\n{profiles[path]}'
    return batch_size, macs, per_image, profiles


def peak_tflops(device_name: str, mode: str) -> Optional[float]:
    for card, peaks in PEAK_TFLOPS.items():
        if card in device_name:
            return peaks[mode]
    return None


def main() -> None:
    args = parse_args()
    device_name = (torch.cuda.get_device_name() if args.device.startswith('cuda')
                   else f'CPU, {torch.get_num_threads()} threads')
    print(f'device: {device_name}; torch {torch.__version__}')
    print('| config | batch | path | images/s (median) | min-max | vs our fp32 | TFLOP/s '
          '| of peak |')
    print('|---|---|---|---|---|---|---|---|')
    all_profiles = []
    for config in args.configs:
        batch, macs, per_image, profiles = benchmark(config, args)
        all_profiles.extend(profiles.values())
        fp32 = statistics.median(per_image['fp32']) if 'fp32' in per_image else None
        for path, times in per_image.items():
            median = statistics.median(times)
            ratio = f'{fp32 / median:.2f}x' if fp32 else '-'
            # forward + backward = 3 forwards; a multiply-add is two FLOPs
            tflops = 6 * macs / median / 1e12
            peak = peak_tflops(device_name, path.split()[-1])
            share = f'{100 * tflops / peak:.1f} %' if peak else '-'
            print(f'| {config.split("/")[-1]} | {batch} | {path} | {1 / median:.1f} | '
                  f'{1 / max(times):.1f}-{1 / min(times):.1f} | {ratio} | {tflops:.3g} '
                  f'| {share} |', flush=True)
    for table in all_profiles:
        print(f'\n{table}')


if __name__ == '__main__':
    main()
