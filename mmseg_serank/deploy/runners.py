"""Run an exported SeRankDet model with ONNX Runtime or OpenVINO on the CPU.

Both runners take raw pixels, float32 N x 3 x H x W in the channel order the
config's data preprocessor receives (BGR as our loaders give it), and return
the target probability, float32 N x 1 x H x W (``logits`` gives the values
before the sigmoid, for tiling). They refuse files that were not written by
tools/deployment/export_onnx.py (another model or input layout, or its first
format without the logit output) and
images with the wrong shape, with errors that name the file and the problem.
Given the config (``cfg``), they also refuse a file exported from another model
than the config builds (other network, input channels or preprocessing), from
the identity tools/deployment/export_onnx.py stores in the file's metadata; files
without it (older exports) are run with a warning.
"""
import json
import os.path as osp
import pickle
import warnings
import zipfile
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np

from ..utils.cli import one_line
from .export import (
    FORMAT,
    FORMAT_KEY,
    IDENTITY_KEYS,
    INPUT_NAME,
    LOGIT_NAME,
    OUTPUT_NAME,
    QUANTIZATION_KEY,
    model_identity,
)

OLD_FORMAT = 'serankdet-probability/1'

BACKENDS = ('onnxruntime', 'openvino')
INSTALL_HINT = 'install the deploy extras: pip install -e .[deploy]'
NEEDS = {
    'onnxruntime': '--backend onnxruntime needs the .onnx file written by '
                   'tools/deployment/export_onnx.py',
    'openvino': '--backend openvino needs the .onnx file written by '
                'tools/deployment/export_onnx.py or an OpenVINO IR .xml converted from it '
                '(its .bin beside it)',
}
# What the identity check says about each key.
IDENTITY_NAMES = {
    'mmseg_serank.model': 'network', 'mmseg_serank.network_in_channels': 'input channels',
    'mmseg_serank.grey': 'grey input', 'mmseg_serank.mean': 'normalisation mean',
    'mmseg_serank.std': 'normalisation std', 'mmseg_serank.flip_channels': 'channel flip',
    'mmseg_serank.config_digest': 'network config digest',
}


class DeployedModelError(ValueError):
    """A model file or an input that a runner cannot use."""


def _import_backend(module: str):
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(f'the {module} backend is not installed ({error}); '
                          f'{INSTALL_HINT}') from None


def check_layout(path: str, inputs: Sequence[tuple], outputs: Sequence[tuple],
                 metadata: Dict[str, str]) -> None:
    """Refuse a model whose metadata, input or outputs are not the exported layout.

    ``inputs`` / ``outputs``: (name, shape) with None or a name for dynamic dims.
    """
    found = metadata.get(FORMAT_KEY)
    if found == OLD_FORMAT:
        raise DeployedModelError(
            f'{path} was written by an earlier tools/deployment/export_onnx.py (format {found!r}, '
            f'without the {LOGIT_NAME!r} output that tiled inference needs); export the '
            'checkpoint again')
    problems = []
    if found != FORMAT:
        problems.append(f'metadata {FORMAT_KEY}={found!r} (expected '
                        f'{FORMAT!r}: the file was not written by tools/deployment/export_onnx.py)')
    if len(inputs) != 1 or inputs[0][0] != INPUT_NAME or len(inputs[0][1]) != 4 \
            or inputs[0][1][1] != 3:
        problems.append(f'inputs {list(inputs)} (expected one input {INPUT_NAME!r} of '
                        'shape N x 3 x H x W)')
    if [name for name, _ in outputs] != [OUTPUT_NAME, LOGIT_NAME] \
            or any(len(shape) != 4 or shape[1] != 1 for _, shape in outputs):
        problems.append(f'outputs {list(outputs)} (expected {OUTPUT_NAME!r} and '
                        f'{LOGIT_NAME!r}, each of shape N x 1 x H x W)')
    if problems:
        raise DeployedModelError(f'{path} is not an exported SeRankDet probability model: '
                                 + '; '.join(problems))


def file_kind(path: str) -> Optional[str]:
    """'a PyTorch checkpoint' or 'an OpenVINO IR .xml' where the file is one, else None."""
    try:
        with open(path, 'rb') as handle:
            head = handle.read(64)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if any(name.endswith('data.pkl') for name in archive.namelist()):
                    return 'a PyTorch checkpoint'
    except (OSError, zipfile.BadZipFile):
        return None
    if head[:1] == b'\x80' and head[1:2] and head[1] <= pickle.HIGHEST_PROTOCOL:
        return 'a PyTorch checkpoint'
    if head.lstrip().startswith(b'<?xml') or head.lstrip().startswith(b'<net'):
        return 'an OpenVINO IR .xml'
    return None


def unloadable(path: str, backend: str, reader: str, error: Exception) -> DeployedModelError:
    """The error for a file ``backend`` cannot load: what it said, which file it
    needs, and what the file seems to be."""
    kind = file_kind(path)
    hint = ''
    if kind == 'a PyTorch checkpoint':
        hint = ('; this is a PyTorch checkpoint: export it with tools/deployment/export_onnx.py '
                'CONFIG CHECKPOINT OUT.onnx (tools/infer.py runs checkpoints with '
                '--backend pytorch)')
    elif kind and backend == 'onnxruntime':
        hint = f'; this is {kind}: run it with --backend openvino'
    return DeployedModelError(f'{path}: {reader} cannot load it ({one_line(error)[:300]}); '
                              f'{NEEDS[backend]}{hint}')


def check_identity(path: str, metadata: Dict[str, str], cfg,
                   warn: Optional[Callable[[str], None]] = None) -> None:
    """Refuse a file exported from another model than ``cfg`` builds, naming both.

    A file without the identity keys (exported before they existed) is accepted
    after ``warn`` (default: :func:`warnings.warn`) says it could not be checked.
    """
    warn = warn or (lambda message: warnings.warn(message, stacklevel=3))
    config = getattr(cfg, 'filename', None) or 'the config'
    if not any(key in metadata for key in IDENTITY_KEYS):
        warn(f'{path} carries no model identity (exported by an earlier '
             f'tools/deployment/export_onnx.py), so it cannot be checked against {config}; '
             'export the checkpoint again to have it checked')
        return
    expected = model_identity(cfg)
    differences = []
    for key, name in IDENTITY_NAMES.items():
        found, wanted = metadata.get(key), expected[key]
        try:
            same = found is not None and json.loads(found) == json.loads(wanted)
        except ValueError:
            same = False
        if not same:
            differences.append(f'{name} {found} in the file, {wanted} for the config')
    if differences:
        raise DeployedModelError(
            f'{path} was exported from a different model '
            f'({json.loads(metadata.get("mmseg_serank.model", "null"))}) than {config} '
            f'builds ({json.loads(expected["mmseg_serank.model"])}): '
            + '; '.join(differences)
            + f'. Export the checkpoint trained with {config} again, or pass the config '
            'the file was exported from (with the same --cfg-options)')
    found = metadata.get('mmseg_serank.threshold')
    if found is not None and json.loads(found) != json.loads(expected['mmseg_serank.threshold']):
        warn(f'{path} was exported with threshold {found}; the threshold of {config} '
             f'({expected["mmseg_serank.threshold"]}) is used')


def check_images(images: np.ndarray) -> np.ndarray:
    """float32 N x 3 x H x W, or an error naming the shape that came."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] != 3:
        raise DeployedModelError(
            f'expected images of shape N x 3 x H x W (raw pixels in the channel order of '
            f'the config\'s data preprocessor), got shape {images.shape}; convert '
            'one-channel or four-channel images to three channels first')
    if min(images.shape[2:]) < 1 or images.shape[0] < 1:
        raise DeployedModelError(f'empty image batch of shape {images.shape}')
    return np.ascontiguousarray(images, dtype=np.float32)


class OnnxRuntimeRunner:
    """An exported .onnx file on ONNX Runtime's CPU execution provider."""

    backend = 'onnxruntime'

    def __init__(self, path: str, num_threads: int = 0, cfg=None,
                 warn: Optional[Callable[[str], None]] = None) -> None:
        ort = _import_backend('onnxruntime')
        _check_file(path, 'onnxruntime')
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        try:
            self.session = ort.InferenceSession(path, options,
                                                providers=['CPUExecutionProvider'])
        except Exception as error:  # onnxruntime raises its own exception types
            raise unloadable(path, 'onnxruntime', 'ONNX Runtime', error) from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        check_layout(path, [(i.name, i.shape) for i in self.session.get_inputs()],
                     [(o.name, o.shape) for o in self.session.get_outputs()], metadata)
        if cfg is not None:
            check_identity(path, metadata, cfg, warn)
        self.path = path

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Target probability, float32 N x 1 x H x W."""
        return self.session.run([OUTPUT_NAME], {INPUT_NAME: check_images(images)})[0]

    def logits(self, images: np.ndarray) -> np.ndarray:
        """The logits of which the probability is the sigmoid."""
        return self.session.run([LOGIT_NAME], {INPUT_NAME: check_images(images)})[0]


class OpenVINORunner:
    """An exported .onnx file (or an OpenVINO IR .xml converted from it with
    ``compress_to_fp16=False``) on the OpenVINO CPU plugin, in float32.

    OpenVINO runs float32 models in bfloat16 on CPUs that support it unless told
    otherwise; that changes probabilities by up to 1e-2, so the precision hint
    is fixed to f32. IR files whose weights were compressed to float16 (the
    default of ``ovc`` and ``openvino.save_model``) differ by up to 0.3 and are
    refused.
    """

    backend = 'openvino'

    def __init__(self, path: str, num_threads: int = 0, cfg=None,
                 warn: Optional[Callable[[str], None]] = None) -> None:
        ov = _import_backend('openvino')
        _check_file(path, 'openvino')
        core = ov.Core()
        try:
            model = core.read_model(path)
        except Exception as error:  # openvino raises RuntimeError subclasses
            raise unloadable(path, 'openvino', 'OpenVINO', error) from None
        metadata = _ov_metadata(model)
        check_layout(path, [(p.get_any_name(), _ov_shape(p)) for p in model.inputs],
                     [(p.get_any_name(), _ov_shape(p)) for p in model.outputs], metadata)
        if cfg is not None:
            check_identity(path, metadata, cfg, warn)
        if any(op.get_type_name() == 'Constant' and op.get_element_type() == ov.Type.f16
               for op in model.get_ops()):
            raise DeployedModelError(
                f'{path} has float16 weights (ovc / openvino.save_model compress them by '
                'default), which moves probabilities by up to 0.3; convert the .onnx with '
                '`ovc MODEL.onnx --compress_to_fp16=False` or run the .onnx directly')
        config = {'INFERENCE_PRECISION_HINT': 'f32', 'PERFORMANCE_HINT': 'LATENCY'}
        if num_threads:
            config['INFERENCE_NUM_THREADS'] = num_threads
        self.compiled = core.compile_model(model, 'CPU', config)
        self.path = path

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Target probability, float32 N x 1 x H x W."""
        return self.compiled(check_images(images))[self.compiled.output(OUTPUT_NAME)]

    def logits(self, images: np.ndarray) -> np.ndarray:
        """The logits of which the probability is the sigmoid."""
        return self.compiled(check_images(images))[self.compiled.output(LOGIT_NAME)]


def _ov_shape(port) -> tuple:
    shape = port.get_partial_shape()
    return tuple(dim.get_length() if dim.is_static else None for dim in shape) \
        if shape.rank.is_static else ()


def _check_file(path: str, backend: str) -> None:
    if not osp.exists(path):
        raise FileNotFoundError(f'no model file at {path}; {NEEDS[backend]}')
    if not osp.isfile(path):
        raise DeployedModelError(f'{path} is not a file; {NEEDS[backend]}')


def _ov_metadata(model) -> Dict[str, str]:
    """ONNX metadata_props as OpenVINO keeps them (rt_info 'framework' for .onnx),
    and the settings of an INT8 file (tools/deployment/quantize.py)."""
    metadata = {}
    for key in (FORMAT_KEY, *IDENTITY_KEYS, QUANTIZATION_KEY):
        for path in (['framework', key], [key]):
            if model.has_rt_info(path):
                metadata[key] = model.get_rt_info(path).astype(str)
                break
    return metadata


def build_runner(backend: str, path: str, num_threads: int = 0, cfg=None,
                 warn: Optional[Callable[[str], None]] = None
                 ) -> Union['OnnxRuntimeRunner', 'OpenVINORunner']:
    """The runner of ``backend`` ('onnxruntime' or 'openvino') for ``path``;
    with ``cfg``, only for a file exported from the model ``cfg`` builds
    (:func:`check_identity`; ``warn`` gets its warnings)."""
    runners = {'onnxruntime': OnnxRuntimeRunner, 'openvino': OpenVINORunner}
    if backend not in runners:
        raise ValueError(f'unknown backend {backend!r}; choose one of {BACKENDS}')
    return runners[backend](path, num_threads, cfg=cfg, warn=warn)
