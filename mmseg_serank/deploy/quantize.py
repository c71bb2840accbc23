"""Post-training INT8 quantisation of an exported model with NNCF for OpenVINO.

The exported graph (tools/deployment/export_onnx.py) is read by OpenVINO, NNCF
inserts FakeQuantize operations calibrated on images the config's dataset
loads, and the result is saved as an OpenVINO IR (.xml + .bin) that keeps the
export's metadata, so the runners take and check it like any exported file.

What stays in floating point, and why (measured, see docs/en/user_guides/deployment.md):

- every SeRank attention (:data:`ATTENTION_PATTERN`). Quantised, the values its
  top-K ranks are rounded onto 256 levels, so thousands of them tie and the
  positions it selects no longer number K: OpenVINO stops with a Reshape error
  at the first attention. The attention is a small share of the multiply-adds;
  the convolutions around it are what INT8 speeds up.
- SeRankDet's first encoder block, which reads the raw image
  (:data:`FIRST_BLOCK_PATTERN`). Quantised too, the trained SeRankDet-lite16
  lost 2.0 IoU points on SIRST and was refused; with it in floating point, 0.3.
  Keeping the logit's convolution in floating point instead did not help.
"""
import copy
import json
import os
import os.path as osp
import shutil
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np
from mmengine.config import Config

from ..checkpoint.saving import check_replaceable
from .export import FORMAT_KEY, IDENTITY_KEYS, QUANTIZATION_KEY
from .runners import _ov_metadata

ATTENTION_PATTERN = r'/backbone/rank_attentions\.\d+/.*'
"""Graph nodes of the SeRank attentions (ONNX node names, kept by OpenVINO)."""
FIRST_BLOCK_PATTERN = r'/backbone/ddc_blocks\.0/.*'
"""Graph nodes of SeRankDet's first encoder block (the one that reads the image)."""
PRESETS = ('performance', 'mixed')
LIMIT_KEYS = ('IoU', 'nIoU', 'Pd', 'Fa')


def _dataset_cfg(dataloader: Mapping) -> dict:
    """The innermost dataset config of a dataloader (through wrappers such as
    RepeatDataset), a copy."""
    dataset = copy.deepcopy(dataloader['dataset'])
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def _plain(config) -> dict:
    return config.to_dict() if hasattr(config, 'to_dict') else dict(config)


def calibration_dataset_cfg(cfg: Config, calib_data: str) -> dict:
    """The config's training dataset with its test pipeline, read from
    ``calib_data``: a data root (folder) or a split file of image names under
    the config's data root.

    The test pipeline, not the training one: calibration must see the images
    as inference sees them, not cropped and flipped.
    """
    dataset = _plain(_dataset_cfg(cfg.train_dataloader))
    dataset['pipeline'] = _plain(cfg.test_dataloader)['dataset']['pipeline']
    if osp.isdir(calib_data):
        dataset['data_root'] = calib_data
    elif osp.isfile(calib_data):
        dataset['ann_file'] = osp.abspath(calib_data)
    else:
        raise FileNotFoundError(f'calibration data {calib_data} does not exist (give the '
                                'data root, a folder, or a split file of image names)')
    return dataset


def held_out_overlap(calibration: Mapping, test: Mapping) -> bool:
    """Whether calibration reads the test split itself (same root and split file)."""
    def where(dataset: Mapping) -> tuple:
        root = dataset.get('data_root') or ''
        ann = dataset.get('ann_file') or ''
        return (osp.abspath(root), osp.abspath(osp.join(root, ann)) if ann else '')
    return where(calibration) == where(test)


def calibration_images(dataset_cfg: Mapping, count: int) -> List[np.ndarray]:
    """Up to ``count`` images of the dataset, evenly spread over it, as the
    runners take them: float32 1 x 3 x H x W raw pixels."""
    from mmseg.registry import DATASETS
    dataset = DATASETS.build(copy.deepcopy(dict(dataset_cfg)))
    if len(dataset) == 0:
        raise ValueError(f'the calibration dataset ({dataset_cfg.get("data_root")}, '
                         f'{dataset_cfg.get("ann_file")}) has no images')
    picks = np.unique(np.linspace(0, len(dataset) - 1, min(count, len(dataset))).round())
    return [dataset[int(i)]['inputs'][None].numpy().astype(np.float32) for i in picks]


def quantize_openvino(model_path: str, images: Sequence[np.ndarray],
                      preset: str = 'performance',
                      ignored_patterns: Sequence[str] = (ATTENTION_PATTERN, FIRST_BLOCK_PATTERN),
                      settings: Optional[Dict[str, object]] = None):
    """The INT8 ``openvino.Model`` of an exported file, calibrated on ``images``.

    The export's metadata (format and model identity) is copied onto the
    result, with ``settings`` under :data:`QUANTIZATION_KEY`. Patterns that
    match no node are allowed: the peer networks have neither block.
    """
    import nncf
    import openvino as ov

    if preset not in PRESETS:
        raise ValueError(f'unknown preset {preset!r}; choose one of {PRESETS}')
    model = ov.Core().read_model(model_path)
    metadata = _ov_metadata(model)
    if QUANTIZATION_KEY in metadata:
        raise ValueError(f'{model_path} is quantised already ({metadata[QUANTIZATION_KEY]}); '
                         'give the FP32 file written by tools/deployment/export_onnx.py')
    ignored = nncf.IgnoredScope(patterns=list(ignored_patterns), validate=False)
    quantized = nncf.quantize(
        model, nncf.Dataset(list(images)), subset_size=len(images),
        preset=nncf.QuantizationPreset(preset), target_device=nncf.TargetDevice.CPU,
        ignored_scope=ignored)
    for key in (FORMAT_KEY, *IDENTITY_KEYS):
        if key in metadata:
            quantized.set_rt_info(metadata[key], key)
    quantized.set_rt_info(json.dumps(settings or {}, sort_keys=True), QUANTIZATION_KEY)
    return quantized


def _plain_key(metrics: Mapping[str, float], name: str) -> float:
    for key, value in metrics.items():
        if key.split('/')[-1] == name:
            return float(value)
    raise KeyError(f'the evaluator gave no {name} (keys {sorted(metrics)})')


def accuracy_problems(fp32: Mapping[str, float], int8: Mapping[str, float],
                      max_drop: Mapping[str, float], max_fa_rise: float) -> List[str]:
    """What ``int8`` loses beyond the limits, one line each (empty: accepted).

    ``max_drop``: points (of the percentages) IoU, nIoU and Pd may fall below
    FP32; ``max_fa_rise``: the fraction Fa may rise above FP32's (0.1: 10 %).
    A negative limit demands a gain.
    """
    problems = []
    for name, limit in max_drop.items():
        before, after = _plain_key(fp32, name), _plain_key(int8, name)
        if before - after > limit:
            problems.append(f'{name} {after:.2f} is {before - after:.2f} points below FP32 '
                            f'{before:.2f} (limit {limit:g})')
    before, after = _plain_key(fp32, 'Fa'), _plain_key(int8, 'Fa')
    if after > before * (1 + max_fa_rise):
        problems.append(f'Fa {after * 1e6:.2f}e-6 is above FP32 {before * 1e6:.2f}e-6 by more '
                        f'than {max_fa_rise:.0%}')
    return problems


def metric_rows(rows: Mapping[str, Mapping[str, float]]) -> str:
    """A Markdown table of IoU, nIoU, Pd (%) and Fa (x 1e-6) per named model."""
    lines = ['| model | IoU (%) | nIoU (%) | Pd (%) | Fa (x1e-6) |', '|---|---|---|---|---|']
    for name, metrics in rows.items():
        values = [_plain_key(metrics, key) for key in LIMIT_KEYS]
        lines.append(f'| {name} | {values[0]:.2f} | {values[1]:.2f} | {values[2]:.2f} | '
                     f'{values[3] * 1e6:.2f} |')
    return '\n'.join(lines)


def ir_paths(out: str) -> List[str]:
    """The .xml and the .bin that OpenVINO reads beside it."""
    return [out, osp.splitext(out)[0] + '.bin']


@contextmanager
def staged_ir(model, out: str) -> Iterator[str]:
    """Save an IR (float32 weights kept) in a hidden folder beside ``out``, so it
    can be checked before :func:`publish_ir`; yields its .xml, removes the
    folder afterwards."""
    import openvino as ov
    directory = osp.dirname(osp.abspath(out))
    try:
        staging = tempfile.mkdtemp(prefix='.' + osp.basename(out) + '.', dir=directory)
    except OSError as error:
        raise OSError(f'cannot write {out}: {error.strerror} (folder {directory})') from None
    try:
        xml = osp.join(staging, 'model.xml')
        ov.save_model(model, xml, compress_to_fp16=False)
        yield xml
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish_ir(staged: str, out: str) -> None:
    """Move a staged IR to ``out`` and its .bin, each in one rename: the .bin
    first, then the .xml, so a failure leaves no new .xml beside an old .bin.
    Only absent or regular files are replaced."""
    for path in ir_paths(out):
        check_replaceable(path)
    for source, target in reversed(list(zip(ir_paths(staged), ir_paths(out)))):
        os.replace(source, target)
