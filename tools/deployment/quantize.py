"""INT8 post-training quantisation of an exported model, written only if accurate enough.

Usage: python tools/deployment/quantize.py CONFIG MODEL.onnx CALIB_DATA OUT.xml
       [--num-samples 300] [--preset performance|mixed] [--quantize-attention]
       [--quantize-first-block] [--ignore PATTERN ...] [--max-iou-drop 0.5] [--max-niou-drop 0.5]
       [--max-pd-drop 1.0] [--max-fa-rise 0.1] [--threads N] [--cfg-options ...]

MODEL is the file tools/deployment/export_onnx.py wrote (or an FP32 OpenVINO IR of
it). NNCF calibrates INT8 quantisers for OpenVINO on up to --num-samples images
of the config's training dataset, read with the config's test pipeline from
CALIB_DATA: the data root (a folder, which the test set is then read from too)
or a split file of image names under the config's data root. SeRankDet's
attentions stay in floating point (their top-K ranking breaks on rounded
values; --quantize-attention tries anyway), and so does the first encoder
block, which reads the image (quantised, it cost the trained SeRankDet-lite16 2
IoU points on SIRST; --quantize-first-block tries anyway); --ignore keeps more graph nodes
(regular expressions of ONNX node names, e.g. '/decode_head/.*') in floating point.

Both models are then scored on the config's test split (held out: calibration
on the test split itself is refused) as tools/deployment/test_deployed.py scores
them, both rows are printed, and OUT (an OpenVINO IR .xml with its .bin
beside it) is written only if INT8 loses no more than the limits: IoU and nIoU
--max-*-drop points, Pd --max-pd-drop points, Fa at most --max-fa-rise (a
fraction) above FP32. Otherwise the tool exits 1 and writes nothing. The IR
keeps the export's metadata (model identity), so tools/infer.py,
tools/deployment/test_deployed.py and tools/analysis_tools/benchmark_backends.py take it
with --backend openvino like any exported file. The .bin and then the .xml
are each replaced in one rename, and only absent or regular files are replaced.
"""
# ruff: noqa: E402  (the Ctrl-C handler is installed before the slow imports)
import os
import signal
import sys


def _interrupted_while_loading(*_) -> None:
    sys.stderr.write('\nerror: interrupted while loading; nothing was written\n')
    sys.stderr.flush()
    os._exit(130)


if __name__ == '__main__':
    signal.signal(signal.SIGINT, _interrupted_while_loading)

import argparse
import logging
import time

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmseg_serank  # noqa: F401  (registers modules)
from mmseg_serank.checkpoint import check_replaceable
from mmseg_serank.deploy import DeployedModelError, OpenVINORunner
from mmseg_serank.deploy.quantize import (
    ATTENTION_PATTERN,
    FIRST_BLOCK_PATTERN,
    PRESETS,
    accuracy_problems,
    calibration_dataset_cfg,
    calibration_images,
    held_out_overlap,
    ir_paths,
    metric_rows,
    publish_ir,
    quantize_openvino,
    staged_ir,
)
from mmseg_serank.deploy.scoring import score_deployed
from mmseg_serank.utils.cli import error_line, one_line


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('model', help='the .onnx file of tools/deployment/export_onnx.py')
    parser.add_argument('calib_data', help='data root (folder) or split file of the '
                        'calibration images')
    parser.add_argument('out', help='the OpenVINO IR .xml to write (its .bin beside it)')
    parser.add_argument('--num-samples', type=int, default=300,
                        help='calibration images (default 300)')
    parser.add_argument('--preset', choices=PRESETS, default='performance',
                        help="NNCF preset: symmetric ('performance', default) or asymmetric "
                             "('mixed') activation quantisers")
    parser.add_argument('--quantize-attention', action='store_true',
                        help='quantise the SeRank attentions too (breaks their top-K)')
    parser.add_argument('--quantize-first-block', action='store_true',
                        help="quantise SeRankDet's first encoder block too (less accurate)")
    parser.add_argument('--ignore', nargs='+', default=[], metavar='PATTERN',
                        help='more node-name patterns to keep in floating point')
    parser.add_argument('--max-iou-drop', type=float, default=0.5)
    parser.add_argument('--max-niou-drop', type=float, default=0.5)
    parser.add_argument('--max-pd-drop', type=float, default=1.0)
    parser.add_argument('--max-fa-rise', type=float, default=0.1,
                        help='largest rise of Fa over FP32, a fraction (default 0.1: 10%%)')
    parser.add_argument('--threads', type=int, default=0,
                        help='OpenVINO inference threads for the scoring (default: all)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    return parser.parse_args()


def out_problem(out: str) -> str:
    """Why ``out`` cannot be written (checked before the slow steps), or ''."""
    if not out.endswith('.xml'):
        return f'{out}: OUT must be an OpenVINO IR .xml (its .bin is written beside it)'
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        return f'cannot write {out}: the folder {folder} does not exist'
    if not os.access(folder, os.W_OK):
        return f'cannot write {out}: the folder {folder} is not writable'
    for path in ir_paths(out):
        try:
            check_replaceable(path)
        except OSError as error:
            return one_line(error)
    return ''


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return quantize(parse_args())
    except KeyboardInterrupt:
        print('\nerror: interrupted; nothing was written', file=sys.stderr)
        return 130


def quantize(args: argparse.Namespace) -> int:
    try:
        import nncf
    except ImportError as error:
        print(f'error: {error}; install the deploy extras: pip install -e .[deploy]',
              file=sys.stderr)
        return 1
    nncf.set_log_level(logging.ERROR)  # else a line per node of the ignored scope
    problem = out_problem(args.out)
    if not problem and args.num_samples < 1:
        problem = f'--num-samples must be >= 1, got {args.num_samples}'
    if not problem and not os.path.isfile(args.config):
        problem = f'config {args.config} does not exist'
    if problem:
        print(f'error: {problem}', file=sys.stderr)
        return 1
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        fp32 = OpenVINORunner(args.model, args.threads, cfg=cfg,
                              warn=lambda message: print(f'warning: {message}',
                                                         file=sys.stderr))
        calibration = calibration_dataset_cfg(cfg, args.calib_data)
        test = cfg.test_dataloader.dataset
        while 'dataset' in test:
            test = test.dataset
        if os.path.isdir(args.calib_data):  # the test set lives under the same root
            test.data_root = args.calib_data
        if held_out_overlap(calibration, test):
            raise ValueError(f'{args.calib_data}: the calibration images are the test split '
                             'that judges the result; calibrate on the training split')
        images = calibration_images(calibration, args.num_samples)
        ignored = [*([] if args.quantize_attention else [ATTENTION_PATTERN]),
                   *([] if args.quantize_first_block else [FIRST_BLOCK_PATTERN]), *args.ignore]
        settings = dict(tool='nncf', nncf=nncf.__version__, preset=args.preset,
                        ignored=ignored, calibration_images=len(images))
        start = time.perf_counter()
        quantized = quantize_openvino(args.model, images, args.preset, ignored, settings)
        print(f'calibrated on {len(images)} images of {args.calib_data} in '
              f'{time.perf_counter() - start:.0f} s (preset {args.preset}, in floating point: '
              f'{ignored or "nothing"})', flush=True)
        with staged_ir(quantized, args.out) as staged:
            int8 = OpenVINORunner(staged, args.threads, cfg=cfg)
            rows = {'FP32 (OpenVINO)': score_deployed(cfg, fp32),
                    'INT8 (OpenVINO)': score_deployed(cfg, int8)}
            print(f'on the test split of {args.config}:')
            print(metric_rows(rows))
            problems = accuracy_problems(
                *rows.values(), {'IoU': args.max_iou_drop, 'nIoU': args.max_niou_drop,
                                 'Pd': args.max_pd_drop}, args.max_fa_rise)
            if problems:
                print(f'error: not writing {args.out}: ' + '; '.join(problems),
                      file=sys.stderr)
                return 1
            publish_ir(staged, args.out)
    except (ImportError, DeployedModelError, OSError, ValueError, KeyError) as error:
        print(f'error: {error_line(error)}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} and {ir_paths(args.out)[1]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
