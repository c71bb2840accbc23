"""SeRankDet for infrared small target detection as an MMSegmentation 1.x plugin.

Importing this package applies the compatibility layer (:mod:`.compat`) and
registers every model, dataset, transform, metric and hook of the plugin in
mmseg's registries, so a config only needs
``custom_imports=dict(imports=['mmseg_serank'], allow_failed_imports=False)``.
"""
from .compat import apply_all as _apply_compat_patches

_apply_compat_patches()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'apis', 'datasets', 'engine', 'evaluation', 'models']
