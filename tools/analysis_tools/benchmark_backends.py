"""Batch-1 CPU latency of SeRankDet on PyTorch, ONNX Runtime and OpenVINO.

Usage: python tools/analysis_tools/benchmark_backends.py [--widths 64 16]
       [--sizes 256 512] [--repeats 3] [--threads 2] [--checkpoint CKPT]
       [--reference-dir SERANKDET_CHECKOUT] [--int8]

For each width the model of --config is built (random weights unless
--checkpoint is given; timing does not depend on the values), exported with
tools/deployment/export_onnx.py's code to a temporary file, and each path runs on
the same raw-pixel image: PyTorch eval form (what tools/test.py runs), PyTorch
deploy form (CDC + BN folded), the deploy form in channels_last memory format,
ONNX Runtime and OpenVINO (f32) on the exported file. After one warm-up call
each, the paths run interleaved (round robin) --repeats times, so load changes
on the machine hit them alike. Printed: median and min-max of the seconds per
image, speed-up of the median over the eval form, and the max abs probability
difference to the eval form.

With --reference-dir (a checkout of GrokCV/SeRankDet, einops on PYTHONPATH, as
for tools/analysis_tools/verify_reference_parity.py) the width-64 rows add the
reference implementation in eval mode on the same weights (the reference's
random initialisation, converted into ours), timed in the same rounds, and a
last line gives each path's speed-up over the reference.

With --int8 the exported file is also quantised to INT8 with
tools/deployment/quantize.py's code (NNCF for OpenVINO, the SeRank attentions in
floating point), calibrated on --int8-samples random raw-pixel images at the
first size (timing does not depend on the calibration), and timed in the same
rounds; a line gives its speed-up over OpenVINO f32. Its probability difference
says nothing about accuracy on random weights: tools/deployment/quantize.py
measures that on a test set.
"""
import argparse
import copy
import logging
import os
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from mmseg_serank.checkpoint import CHECKPOINT_ERRORS
from mmseg_serank.checkpoint.reference import build_reference
from mmseg_serank.checkpoint.serankdet import convert_state_dict
from mmseg_serank.deploy import OnnxRuntimeRunner, OpenVINORunner, ProbabilityModel
from mmseg_serank.deploy.export import (
    TorchRunner,
    build_segmentor,
    export_onnx,
    load_segmentor,
)
from mmseg_serank.deploy.quantize import quantize_openvino
from mmseg_serank.deploy.runners import DeployedModelError
from mmseg_serank.utils.cli import error_line, one_line

DEFAULT_CONFIG = 'configs/serankdet/serankdet_1xb4-1500e_sirst-512x512.py'
REFERENCE_PATH = 'reference (GrokCV/SeRankDet), eval'
OPENVINO_PATH = 'OpenVINO (f32)'
INT8_PATH = 'OpenVINO INT8 (NNCF)'


class ChannelsLastRunner(TorchRunner):
    """The PyTorch model with weights and input in channels_last memory format."""

    backend = 'pytorch-channels-last'

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__(model.to(memory_format=torch.channels_last))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            inputs = torch.from_numpy(images).contiguous(memory_format=torch.channels_last)
            return self.model(inputs).numpy()


class ReferenceRunner:
    """The authors' SeRankDet behind the runners' interface: the same channel flip
    and normalisation as the exported graph, the sigmoid of its fused output."""

    backend = 'reference'

    def __init__(self, reference: torch.nn.Module, wrapped: ProbabilityModel) -> None:
        self.reference = reference.eval()
        self.preprocess = wrapped.preprocess

    def __call__(self, images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            inputs = self.preprocess(torch.from_numpy(images))
            return self.reference(inputs)[-1].sigmoid().numpy()


def width_options(width: int) -> dict:
    return {'model.backbone.base_channels': width}  # the head follows (IRSTDEncoderDecoder)


def int8_runner(onnx_path: str, threads: int, samples: int, size: int) -> OpenVINORunner:
    """The exported file quantised as tools/deployment/quantize.py does, on random
    calibration images, saved beside it."""
    import nncf
    import openvino as ov
    nncf.set_log_level(logging.ERROR)
    generator = np.random.default_rng(0)
    images = [generator.uniform(0, 255, (1, 3, size, size)).astype(np.float32)
              for _ in range(samples)]
    path = os.path.splitext(onnx_path)[0] + '_int8.xml'
    ov.save_model(quantize_openvino(onnx_path, images), path, compress_to_fp16=False)
    return OpenVINORunner(path, num_threads=threads)


def build_paths(config: str, width: int, checkpoint: str, threads: int,
                onnx_path: str, reference_dir: Optional[str] = None,
                int8: Optional[dict] = None
                ) -> Dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Every path to time, by name; ``int8``: int8_runner's samples and size."""
    reference = None
    if checkpoint:
        model, deployed = load_segmentor(config, checkpoint, width_options(width))
    else:
        torch.manual_seed(0)
        model = build_segmentor(config, width_options(width))
        if reference_dir and width == 64:  # the reference exists at width 64 only
            reference = build_reference(reference_dir)
            model.load_state_dict(convert_state_dict(reference.state_dict())[0], strict=True)
        deployed = copy.deepcopy(model)
        if hasattr(deployed.backbone, 'switch_to_deploy') and \
                hasattr(deployed.decode_head, 'switch_to_deploy'):
            deployed.backbone.switch_to_deploy()
            deployed.decode_head.switch_to_deploy()
    deploy_form = ProbabilityModel(deployed).eval()
    export_onnx(deploy_form, onnx_path)
    eval_form = ProbabilityModel(model).eval()
    paths = {'PyTorch eval form': TorchRunner(eval_form)}
    if reference is not None:
        paths[REFERENCE_PATH] = ReferenceRunner(reference, eval_form)
    paths.update({
        'PyTorch deploy form': TorchRunner(deploy_form),
        'PyTorch deploy, channels_last': ChannelsLastRunner(copy.deepcopy(deploy_form)),
        'ONNX Runtime': OnnxRuntimeRunner(onnx_path, num_threads=threads),
        OPENVINO_PATH: OpenVINORunner(onnx_path, num_threads=threads),
    })
    if int8:
        paths[INT8_PATH] = int8_runner(onnx_path, threads, **int8)
    return paths


def measure(paths: Dict[str, Callable], image: np.ndarray, repeats: int) -> List[dict]:
    reference = None
    outputs, times = {}, {name: [] for name in paths}
    for name, run in paths.items():  # warm-up, and the outputs for the differences
        outputs[name] = run(image)
        if reference is None:
            reference = outputs[name]
    for _ in range(repeats):
        for name, run in paths.items():
            start = time.perf_counter()
            run(image)
            times[name].append(time.perf_counter() - start)
    eval_median = statistics.median(next(iter(times.values())))
    return [dict(path=name, median=statistics.median(values), low=min(values),
                 high=max(values), speedup=eval_median / statistics.median(values),
                 difference=float(np.abs(outputs[name] - reference).max()))
            for name, values in times.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--checkpoint', help='trained weights (width must match)')
    parser.add_argument('--widths', type=int, nargs='+', default=[64, 16])
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 512])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--reference-dir',
                        help='GrokCV/SeRankDet checkout: also time the reference (width 64, '
                             'random weights only)')
    parser.add_argument('--int8', action='store_true',
                        help='also time the exported file quantised to INT8 (NNCF, OpenVINO)')
    parser.add_argument('--int8-samples', type=int, default=8,
                        help='random calibration images for --int8 (default 8)')
    args = parser.parse_args()
    if args.reference_dir and args.checkpoint:
        parser.error('--reference-dir runs on random weights; leave out --checkpoint')
    for option in ('widths', 'sizes', 'repeats', 'threads', 'int8_samples'):
        values = getattr(args, option)
        if any(value < 1 for value in (values if isinstance(values, list) else [values])):
            print(f'error: --{option.replace("_", "-")} must be >= 1, got {values}',
                  file=sys.stderr)
            return 1
    if not os.path.isfile(args.config):
        print(f'error: --config {args.config} does not exist', file=sys.stderr)
        return 1
    if args.checkpoint and not os.path.isfile(args.checkpoint):
        print(f'error: --checkpoint {args.checkpoint} does not exist', file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)

    print(f'torch {torch.__version__}, {args.threads} threads, batch 1, float32, '
          f'{args.repeats} interleaved runs after a warm-up')
    print('| width | size | path | median s | min-max s | speed-up vs eval | '
          'max prob diff vs eval |')
    print('|---|---|---|---|---|---|---|')
    with tempfile.TemporaryDirectory() as directory:
        for width in args.widths:
            try:
                paths = build_paths(args.config, width, args.checkpoint, args.threads,
                                    os.path.join(directory, f'w{width}.onnx'),
                                    args.reference_dir,
                                    dict(samples=args.int8_samples, size=args.sizes[0])
                                    if args.int8 else None)
            except CHECKPOINT_ERRORS + (ImportError, ValueError, OSError,
                                        DeployedModelError) as error:
                print(f'error: {error_line(error)}', file=sys.stderr)
                return 1
            except (TypeError, KeyError) as error:
                print(f'error: {args.config}: cannot build its model at width {width} '
                      f'({one_line(error)}); --widths sets model.backbone.base_channels, '
                      "which this config's backbone may not take", file=sys.stderr)
                return 1
            for size in args.sizes:
                image = (torch.rand(1, 3, size, size,
                                    generator=torch.Generator().manual_seed(size)) * 255).numpy()
                rows = measure(paths, image, args.repeats)
                for row in rows:
                    print(f'| {width} | {size}x{size} | {row["path"]} | {row["median"]:.3f} | '
                          f'{row["low"]:.3f}-{row["high"]:.3f} | {row["speedup"]:.2f}x | '
                          f'{row["difference"]:.1e} |', flush=True)
                reference_row = next((r for r in rows if r['path'] == REFERENCE_PATH), None)
                if reference_row:
                    print(f'  width {width}, {size}x{size}, speed-up over the reference: ' +
                          ', '.join(f'{r["path"]} {reference_row["median"] / r["median"]:.2f}x'
                                    for r in rows if r is not reference_row), flush=True)
                medians = {row['path']: row['median'] for row in rows}
                if INT8_PATH in medians:
                    print(f'  width {width}, {size}x{size}, INT8 over OpenVINO f32: '
                          f'{medians[OPENVINO_PATH] / medians[INT8_PATH]:.2f}x', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
