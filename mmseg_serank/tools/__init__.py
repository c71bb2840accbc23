"""mmseg's analysis tools for this plugin: ``python -m mmseg_serank.tools NAME ...``.

mmseg 1.2.2's own ``get_flops.py``, ``browse_dataset.py`` and ``print_config.py`` fail
here: with mmcv-lite they import ``mmseg.models`` / ``mmseg.apis`` before anything
applies this plugin's compatibility patches, they build IRSTD datasets without
importing the plugin, ``get_flops`` passes both ``input_shape`` and ``inputs`` to
mmengine's counter (refused since mmengine 0.10), and ``browse_dataset`` hands
OpenCV a non-contiguous view. These equivalents import the plugin first and keep
the scripts' options. ``analyze_logs`` replaces mmseg's, which needs seaborn and
draws epoch-based validation metrics on an axis labelled "iter".
"""
