"""SeRankDet for infrared small target detection as an MMSegmentation 1.x plugin.

Importing this package registers every model, dataset, transform, metric,
hook, inferencer and checkpoint loader of the plugin in mmseg's and mmengine's
registries, so a config only needs
``custom_imports=dict(imports=['mmseg_serank'], allow_failed_imports=False)``.
It changes no function of mmseg or mmengine. Under mmcv-lite, which has no
compiled ``mmcv._ext`` that mmseg imports (open-mmlab/mmsegmentation#871), a
stand-in module is provided first (:mod:`.compat.mmcv_ops`); with full mmcv
nothing is.
"""
from .compat.mmcv_ops import provide_mmcv_ext

provide_mmcv_ext()  # before the subpackages below import mmseg.models

from . import apis, checkpoint, datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'apis', 'checkpoint', 'datasets', 'engine', 'evaluation', 'models']
