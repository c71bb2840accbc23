"""The one probability threshold of a model: its default, validation and override.

A pixel is predicted target when its probability is strictly above the
threshold. The segmentor's head holds it (``model.decode_head.threshold``,
which makes mmseg's ``pred_sem_seg``); :class:`~mmseg_serank.evaluation.IRSTDMetric`,
the IRSTD visualisation hook and visualiser and ``tools/infer.py`` use that
prediction and take no threshold of their own, so saved masks, pictures and
scores always agree. An exported model has no head: it is thresholded with
:func:`config_threshold`. The target-level settings (``match_distance``,
``connectivity``) have one owner as well, the IRSTDMetric of the evaluator.
"""
import math
import numbers
from typing import Iterable, Mapping

__all__ = ['DEFAULT_THRESHOLD', 'SETTING_OWNERS', 'check_setting_owners', 'check_threshold',
           'config_threshold', 'refuse_moved_settings', 'set_config_threshold']

#: The heads' default, also used for a sample that carries no ``pred_sem_seg``.
DEFAULT_THRESHOLD = 0.5

#: Where each setting that the metric, the pictures and the tools share is set.
SETTING_OWNERS = dict(
    threshold='model.decode_head.threshold (tools: --threshold)',
    match_distance='the IRSTDMetric of val_evaluator / test_evaluator',
    connectivity='the IRSTDMetric of val_evaluator / test_evaluator')


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
    """The one threshold a config sets (``model.decode_head.threshold``,
    :data:`DEFAULT_THRESHOLD` when absent), validated: what an exported model,
    which has no head, is thresholded with."""
    return check_threshold(cfg.model.decode_head.get('threshold', DEFAULT_THRESHOLD),
                           'model.decode_head.threshold')


def set_config_threshold(cfg, value: float) -> None:
    """Make ``value`` the config's one threshold (what ``--threshold`` does), so
    the model built from ``cfg``, its metric, pictures and exported runs all use it.

    Raises:
        ValueError: ``value`` is outside [0, 1), or the head has several
            output channels (its prediction is an arg-max, not a threshold).
    """
    head = cfg.model.decode_head
    if head.get('out_channels') != 1:
        raise ValueError('--threshold needs a one-channel head (out_channels=1); '
                         f'this model has out_channels={head.get("out_channels")} '
                         '(arg-max prediction)')
    head.threshold = check_threshold(value, '--threshold')


def refuse_moved_settings(owner: str, given: Mapping[str, object],
                          keys: Iterable[str]) -> None:
    """Raise a ValueError naming the one place of each of ``keys`` in ``given``:
    ``owner`` reads those settings from there instead of taking its own."""
    moved = [key for key in keys if key in given]
    if moved:
        places = '; '.join(f'{key} is set once, as {SETTING_OWNERS[key]}' for key in moved)
        raise ValueError(f'{owner} takes no {" / ".join(moved)} of its own: {places}, '
                         'and the metric, the pictures and tools/infer.py all read it '
                         'from there')


def check_setting_owners(cfg) -> None:
    """Refuse, before a run starts, a config that sets a threshold in an
    evaluator, or a threshold, ``match_distance`` or ``connectivity`` in a
    visualisation hook or the visualiser (the :func:`refuse_moved_settings`
    error, naming the one place)."""
    for key in ('val_evaluator', 'test_evaluator'):
        entries = cfg.get(key)
        for entry in entries if isinstance(entries, (list, tuple)) else [entries]:
            if isinstance(entry, Mapping):
                refuse_moved_settings(key, entry, ('threshold', ))
    hooks = list((cfg.get('default_hooks') or {}).values()) + list(cfg.get('custom_hooks') or [])
    drawers = [(str(hook.get('type')), hook) for hook in hooks
               if isinstance(hook, Mapping) and 'Visualization' in str(hook.get('type'))]
    if isinstance(cfg.get('visualizer'), Mapping):
        drawers.append(('visualizer', cfg.visualizer))
    for name, entry in drawers:
        refuse_moved_settings(name, entry, tuple(SETTING_OWNERS))
