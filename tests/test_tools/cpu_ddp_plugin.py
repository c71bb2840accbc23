"""Test-only plugin: lets ``mim train mmseg ... --launcher pytorch`` start on a
CPU-only host.

mim runs mmseg's own train script, which does not call
:func:`mmseg_serank.compat.enable_cpu_distributed` as ``tools/train.py`` does;
a config names this module in ``custom_imports`` to call it.
"""
from mmseg_serank.compat import enable_cpu_distributed

enable_cpu_distributed()
