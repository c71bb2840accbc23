"""Deployment: ONNX export of the deploy form and CPU runners for it."""
from .export import (
    FORMAT,
    IDENTITY_KEYS,
    INPUT_NAME,
    OPSET,
    OUTPUT_NAME,
    ProbabilityModel,
    export_onnx,
    load_segmentor,
    model_identity,
    write_verified_onnx,
)
from .runners import (
    BACKENDS,
    DeployedModelError,
    OnnxRuntimeRunner,
    OpenVINORunner,
    build_runner,
    check_identity,
    check_images,
)

__all__ = [
    'BACKENDS', 'DeployedModelError', 'FORMAT', 'IDENTITY_KEYS', 'INPUT_NAME', 'OPSET',
    'OUTPUT_NAME', 'OnnxRuntimeRunner', 'OpenVINORunner', 'ProbabilityModel', 'build_runner',
    'check_identity', 'check_images', 'export_onnx', 'load_segmentor', 'model_identity',
    'write_verified_onnx'
]
