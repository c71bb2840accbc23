"""The loop of ``tools/infer.py``: decode, batch, segment, write, record targets."""
import re
from pathlib import Path
from typing import Callable, Dict, Iterator, Sequence

from ..utils.cli import one_line
from .outputs import DetectionResults, write_image_outputs
from .segmenters import Segmenter, size_batches

__all__ = ['decoded_samples', 'detect_in_images']

# PIL names the in-memory file it was given, not the image's path.
OBJECT_REPR = re.compile(r'<_io\.BytesIO object at 0x[0-9a-fA-F]+>')


def decoded_samples(images: Sequence[Path], pipeline: Callable[[dict], dict],
                    results: DetectionResults,
                    skipped: Callable[[str], None]) -> Iterator[dict]:
    """Each image through the inference pipeline; an unreadable one is recorded
    in ``results.failures`` and reported to ``skipped`` instead."""
    for path in images:
        try:
            sample = pipeline(dict(img_path=str(path)))
        except (OSError, ValueError) as error:
            text = OBJECT_REPR.sub('the file', one_line(error))
            message = text if str(path) in text else f'{path}: {text}'
            results.failures.append((path, message))
            skipped(message)
            continue
        sample['source_path'] = path
        yield sample


def detect_in_images(segment: Segmenter, pipeline: Callable[[dict], dict],
                     images: Sequence[Path], names: Dict[Path, str], out_dir: Path,
                     batch_size: int, connectivity: int, results: DetectionResults,
                     done: Callable[[], None], skipped: Callable[[str], None]) -> None:
    """Segment ``images`` in batches of equal size and write each one's pictures
    (named by ``names``) to ``out_dir``, adding its targets, numbered and
    measured as IRSTDMetric with ``connectivity`` counts them, to ``results``.

    ``done`` is called after each image (read or not), ``skipped`` with the
    reason for an unreadable one. Interrupted, ``results`` holds the images
    finished so far, whose pictures are complete.
    """
    def skip(message: str) -> None:
        skipped(message)
        done()

    samples = decoded_samples(images, pipeline, results, skip)
    for batch in size_batches(samples, batch_size):
        outputs, tiled = segment(batch)
        for sample, (probability, mask) in zip(batch, outputs):
            name = names[sample['source_path']]
            targets = write_image_outputs(out_dir, name, sample, probability, mask,
                                          connectivity)
            results.targets.extend(targets)
            results.images.append(dict(image=name, path=str(sample['source_path']),
                                       targets=len(targets), tiled=tiled))
            done()

