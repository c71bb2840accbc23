"""The detection engine of ``tools/infer.py``: images in; probability maps, masks,
overlays and a table of targets out.

One engine, the package's own parts: the model's threshold
(:mod:`mmseg_serank.thresholds`), IRSTDMetric's component labelling and
``connectivity`` for the targets (:func:`target_records`), the package's
overlay and atomic picture writer. ``tools/infer.py`` is a command over it.
"""
from .engine import decoded_samples, detect_in_images
from .errors import InferenceError, OutputWriteError
from .outputs import (
    IMAGE_SUFFIXES,
    DetectionResults,
    check_earlier_run,
    check_out_dir,
    collect_images,
    earlier_outputs,
    output_names,
    remove_earlier_outputs,
    write_image_outputs,
    write_tables,
)
from .segmenters import (
    Segmenter,
    deployed_segmenter,
    pytorch_segmenter,
    size_batches,
    tiled_if_large,
)
from .targets import TARGET_FIELDS, target_records

__all__ = [
    'IMAGE_SUFFIXES', 'TARGET_FIELDS', 'DetectionResults', 'InferenceError',
    'OutputWriteError', 'Segmenter', 'check_earlier_run', 'check_out_dir', 'collect_images',
    'decoded_samples', 'deployed_segmenter', 'detect_in_images', 'earlier_outputs',
    'output_names', 'pytorch_segmenter', 'remove_earlier_outputs', 'size_batches',
    'target_records', 'tiled_if_large', 'write_image_outputs', 'write_tables'
]
