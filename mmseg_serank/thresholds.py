"""The one probability threshold of a model and its validation.

A pixel is predicted target when its probability is strictly above the
threshold. The segmentor's head holds it (``model.decode_head.threshold``,
which makes mmseg's ``pred_sem_seg``); :class:`~mmseg_serank.evaluation.IRSTDMetric`,
the IRSTD visualisation hook and ``tools/infer.py`` use that prediction, so
saved masks, pictures and scores always agree.
"""
import math
import numbers

__all__ = ['check_threshold', 'config_threshold']


def check_threshold(value: object, name: str = 'threshold') -> float:
    """``value`` as a float if it is in [0, 1), else a ValueError naming ``name``.

    0 is allowed (every pixel with a nonzero probability is target); 1 or
    more would predict nothing, a negative value everything.
    """
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or math.isnan(value) or not 0 <= value < 1):
        raise ValueError(f'{name} must be a probability in [0, 1) (a pixel is '
                         f'target when its probability is above it), got {value!r}')
    return float(value)


def config_threshold(cfg) -> float:
    """The one threshold a config sets (``model.decode_head.threshold``, mmseg's
    default 0.5 when absent), validated: what an exported model, which has no
    head, is thresholded with."""
    return check_threshold(cfg.model.decode_head.get('threshold', 0.5),
                           'model.decode_head.threshold')
