"""Detect infrared small targets in images, folders or globs with a trained model.

Writes per image the target probability map (``NAME_prob.png``, probability x
255), the binary mask (``NAME_mask.png``) and an overlay, plus one
``targets.csv`` and ``targets.json`` listing every detected target (image,
centroid, area, bounding box, peak score): IRSTD users need target positions,
not only masks. The targets are IRSTDMetric's components: its connectivity
(``test_evaluator.connectivity``), its numbering, areas and centroids.

The probability and the mask are what mmseg's ``inference_model`` and
``MMSegInferencer`` return for the same checkpoint and image: the mask is the
model's ``pred_sem_seg``, made with its head's threshold
(``model.decode_head.threshold``); ``--threshold`` sets that one value in the
config before the model is built, as ``--cfg-options
model.decode_head.threshold=...`` does.

Images are decoded one batch at a time. An image whose longer side exceeds
``--max-side`` is segmented in overlapping ``--tile`` windows (mmseg's slide
inference, logits averaged where windows overlap), so memory stays bounded;
SeRank attention then ranks positions within each window, not the whole image.

NAME is the image's path relative to the folder common to all inputs, without
its extension (with it if two inputs differ only in extension), so images of
equal name from different folders stay apart (sub-folders are created under
``--out``). ``--out`` must not be an input folder or inside one, so no input or
earlier result next to it is overwritten. An ``--out`` holding an earlier run's
outputs is refused, so two runs are never mixed; with ``--overwrite`` the
earlier run's outputs (the files this tool writes: ``*_prob.png``,
``*_mask.png``, ``*_overlay.png``, ``targets.csv``, ``targets.json``) are
removed first and other files are kept. An unreadable image is reported and
skipped; after the other images are written the exit status is 1. Every file
is written atomically; one that cannot be written (full disk, read-only folder)
stops the run with an error naming it. Ctrl-C stops after the images done so
far, writes their ``targets.csv`` / ``targets.json`` and exits with 130.

``--backend onnxruntime`` or ``openvino`` runs a model exported by
``tools/deployment/export_onnx.py`` (the ``.onnx``, or an OpenVINO ``.xml``) in
place of the checkpoint, with the same outputs; the mask is then the exported
probability above the config's ``model.decode_head.threshold`` (which
``--threshold`` sets); large images are tiled with the same windows,
their logits averaged, so the outputs are those of the PyTorch backend. A file
exported from another model than CONFIG builds is refused.

Example::

    python tools/infer.py CONFIG CKPT data/frames/ 'more/*.png' --out results/
    python tools/infer.py CONFIG model.onnx data/frames/ --out results/ --backend onnxruntime
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
from pathlib import Path
from typing import Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmseg_serank.apis import inference_pipeline, init_irstd_model
from mmseg_serank.checkpoint import (
    CHECKPOINT_ERRORS,
    CheckpointFormatError,
    checkpoint_error_message,
)
from mmseg_serank.deploy import BACKENDS
from mmseg_serank.deploy.runners import one_line
from mmseg_serank.evaluation.metrics import detection_settings
from mmseg_serank.inference import (
    DetectionResults,
    InferenceError,
    OutputWriteError,
    Segmenter,
    check_earlier_run,
    check_out_dir,
    collect_images,
    deployed_segmenter,
    detect_in_images,
    output_names,
    pytorch_segmenter,
    remove_earlier_outputs,
    write_tables,
)
from mmseg_serank.thresholds import config_threshold, set_config_threshold


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='\n\n'.join(__doc__.split('\n\n')[1:-2]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file; with --backend onnxruntime / '
                        'openvino the model written by tools/deployment/export_onnx.py')
    parser.add_argument('inputs', nargs='+',
                        help='image files, folders or glob patterns')
    parser.add_argument('--out', required=True,
                        help='output directory (not an input folder or inside one)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--batch-size', type=positive_int, default=1,
                        help='consecutive images of equal size are batched up to this')
    parser.add_argument('--threshold', type=float, default=None,
                        help='probability in [0, 1) above which a pixel is target: sets '
                             "model.decode_head.threshold (default: the config's)")
    parser.add_argument('--max-side', type=positive_int, default=1024,
                        help='images with a longer side than this are segmented in '
                             'tiles (default 1024)')
    parser.add_argument('--tile', type=positive_int, default=512,
                        help='tile size in pixels for those images; tiles overlap '
                             'by a quarter (default 512)')
    parser.add_argument('--backend', choices=('pytorch', ) + BACKENDS, default='pytorch',
                        help='pytorch runs the checkpoint; the others an exported model on '
                             'the CPU')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace an earlier run's outputs in --out (only the files "
                             'this tool writes are removed)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    return parser.parse_args()


def load_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """The model with the checkpoint's weights (strictly) and ``dataset_meta``."""
    try:
        return init_irstd_model(cfg, checkpoint, device=device)
    except CHECKPOINT_ERRORS as error:
        hint = ''
        if isinstance(error, CheckpointFormatError) and \
                Path(checkpoint).suffix.lower() in ('.onnx', '.xml'):
            hint = ('; this is an exported model: run it with --backend onnxruntime '
                    '(or --backend openvino)')
        message = checkpoint_error_message(error)
        raise SystemExit(f'error: {message.rstrip(".") if hint else message}{hint}') from None


def build_segmenter(cfg: Config, args: argparse.Namespace) -> Tuple[Segmenter, Config]:
    """The chosen backend's segmenter and the config it runs."""
    if args.backend == 'pytorch':
        try:
            model = load_model(cfg, args.checkpoint, args.device)
        except ValueError as error:  # e.g. a head setting out of range
            raise SystemExit(f'error: {error}') from None
        return pytorch_segmenter(model, args.max_side, args.tile), model.cfg
    segment = deployed_segmenter(cfg, args.backend, args.checkpoint, args.max_side, args.tile,
                                 warn=lambda message: print(f'warning: {message}',
                                                            file=sys.stderr))
    return segment, cfg


def run(args: argparse.Namespace) -> int:
    if not os.path.isfile(args.config):
        raise SystemExit(f'error: config {args.config} does not exist')
    try:
        cfg = Config.fromfile(args.config)
    except OSError as error:  # mmengine writes a temporary copy of each config file
        raise SystemExit(f'error: cannot load config {args.config}: {one_line(error)} (is '
                         'the disk full?)') from None
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    try:  # the one threshold and the metric's component settings, before any work
        if args.threshold is not None:
            set_config_threshold(cfg, args.threshold)
        threshold = config_threshold(cfg)
        connectivity = detection_settings(cfg.get('test_evaluator'))['connectivity']
    except ValueError as error:
        raise InferenceError(str(error)) from None
    images = collect_images(args.inputs)
    names = output_names(images)
    out_dir = Path(args.out)
    check_out_dir(out_dir, args.inputs, images)
    earlier = check_earlier_run(out_dir, args.overwrite)
    segment, cfg = build_segmenter(cfg, args)
    pipeline = inference_pipeline(cfg.test_dataloader.dataset.pipeline)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputWriteError(f'cannot write to --out {out_dir}: {error}') from error
    remove_earlier_outputs(out_dir, earlier)

    results = DetectionResults(threshold)
    progress = ProgressBar(len(images))

    def skipped(message: str) -> None:
        print(f'\nskipping unreadable image {message}', file=sys.stderr)

    try:
        detect_in_images(segment, pipeline, images, names, out_dir, args.batch_size,
                         connectivity, results, progress.update, skipped)
    except KeyboardInterrupt:
        write_tables(out_dir, results)
        print(f'\nerror: interrupted after {len(results.images)} of {len(images)} images; '
              f'their outputs and targets.csv / targets.json are in {out_dir}',
              file=sys.stderr)
        return 130

    write_tables(out_dir, results)
    print(f'\n{len(results.targets)} targets in {len(results.images)} images -> {out_dir}')
    if results.failures:
        print(f'error: {len(results.failures)} unreadable image(s) skipped:', file=sys.stderr)
        for _, message in results.failures:
            print(f'  {message}', file=sys.stderr)
        return 1
    return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = parse_args()
    try:
        return run(args)
    except (InferenceError, OutputWriteError, FileNotFoundError) as error:
        print(f'error: {one_line(error)}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('\nerror: interrupted before the run finished; the pictures written are '
              'complete', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
