"""The authors' SeRankDet, built from a checkout of GrokCV/SeRankDet.

The parity check (``tools/analysis_tools/verify_reference_parity.py``) and the speed
comparisons (``benchmark_backends.py``, ``benchmark_train_speed.py``) run the
reference next to ours; this is the one place that knows how to import it.
"""
import os.path as osp

import torch.nn as nn

from .peers import import_from_checkout

__all__ = ['build_reference']


def build_reference(repo_dir: str) -> nn.Module:
    """The reference network at its only size (width 64), freshly initialised.

    A folder that is not a checkout, or a missing dependency of the reference
    (einops), stops the calling tool with a one-line error.
    """
    if not osp.isdir(osp.join(repo_dir, 'model', 'SeRankDet')):
        raise SystemExit(f'error: {repo_dir} has no model/SeRankDet (not a SeRankDet '
                         'reference checkout)')
    try:
        module = import_from_checkout(osp.abspath(repo_dir), 'model.SeRankDet.SeRankDet')
    except ModuleNotFoundError as error:
        raise SystemExit(f'error: cannot import the reference ({error}); put einops on '
                         'PYTHONPATH for this run') from error
    return module.SeRankDet()
