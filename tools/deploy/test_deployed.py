"""Score an exported model (.onnx or OpenVINO .xml) on the config's test set.

Usage: python tools/deploy/test_deployed.py CONFIG MODEL
       [--backend onnxruntime|openvino] [--out metrics.json] [--cfg-options ...]

The config's test dataloader loads each image as for tools/test.py; the backend
gives its target probability, and the config's test evaluator (IRSTDMetric)
scores it exactly as it scores the PyTorch model's ``seg_logits``, so the table
shows whether accuracy survived the export. ``--out`` also writes the scores
as JSON (refusing to overwrite an existing file).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmseg_serank  # noqa: F401  (registers modules, applies compat patches)
from mmseg_serank.deploy import BACKENDS, DeployedModelError, build_runner
from mmseg_serank.deploy.slide import deployed_probability, slide_settings
from mmseg_serank.evaluation.metrics import format_metrics_table
from mmseg_serank.thresholds import config_threshold


def score(cfg: Config, runner) -> dict:
    """Run ``runner`` over the test set and return the evaluator's scores.

    The mask is the probability above the model's one threshold
    (``model.decode_head.threshold``), as the PyTorch model's ``pred_sem_seg``.
    A config in slide mode is run on its windows, as tools/test.py runs it.
    """
    threshold = config_threshold(cfg)
    test_cfg = cfg.model.get('test_cfg') or {}
    dataloader = Runner.build_dataloader(cfg.test_dataloader)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataloader.dataset.metainfo
    for batch in dataloader:
        samples = []
        for image, sample in zip(batch['inputs'], batch['data_samples']):
            pixels = image[None].numpy().astype(np.float32)
            settings = slide_settings(test_cfg, pixels.shape[2:])
            probability = deployed_probability(runner, pixels, settings)[0]
            result = SegDataSample(metainfo=sample.metainfo)
            result.gt_sem_seg = sample.gt_sem_seg
            result.seg_logits = PixelData(data=torch.from_numpy(probability))
            result.pred_sem_seg = PixelData(
                data=torch.from_numpy((probability > threshold).astype(np.int64)))
            samples.append(result)
        evaluator.process(samples, batch)
    return evaluator.evaluate(len(dataloader.dataset))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('model', help='exported .onnx (or OpenVINO .xml) file')
    parser.add_argument('--backend', choices=BACKENDS, default='onnxruntime')
    parser.add_argument('--out', help='also write the scores to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    args = parser.parse_args()
    if args.out and os.path.exists(args.out):
        print(f'error: {args.out} exists; not overwriting it', file=sys.stderr)
        return 1
    out_dir = os.path.dirname(os.path.abspath(args.out)) if args.out else None
    if out_dir and not os.path.isdir(out_dir):  # found before the scoring, not after
        print(f'error: cannot write {args.out}: the folder {out_dir} does not exist',
              file=sys.stderr)
        return 1

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    try:
        runner = build_runner(args.backend, args.model)
        metrics = score(cfg, runner)
    except (ImportError, DeployedModelError, FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{args.model} ({args.backend}) on {cfg.test_dataloader.dataset.get("data_root")}:')
    print(format_metrics_table(metrics))
    if args.out:
        record = dict(config=args.config, model=args.model, backend=args.backend,
                      metrics={key: float(value) for key, value in metrics.items()})
        try:
            with open(args.out, 'x') as handle:
                json.dump(record, handle, indent=2)
        except OSError as error:
            print(f'error: cannot write {args.out}: {error} (the scores are above)',
                  file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
