"""Convert a checkpoint of the authors' MSHNet code to an mmseg_serank checkpoint.

Usage: python tools/model_converters/mshnet2mmseg.py SRC DST [--config CONFIG]
[--cfg-options ...]

SRC is any form the authors' code (or BasicIRSTD's port, where it is the same
network) saves: a dict holding ``state_dict`` or ``net``, or a bare state dict,
keys with ``module.`` / ``model.`` prefixes, named .pth, .pth.tar, .tar or .pkl.
It is read without running pickled code; every key must map, and the result
must fill the config's model exactly. DST is written atomically and loads
strictly with tools/test.py, tools/infer.py and the mmseg APIs. The key
mapping is ``mmseg_serank/checkpoint/converters/mshnet.py``.
"""
import sys

from mmseg_serank.checkpoint import run_converter

if __name__ == '__main__':
    sys.exit(run_converter('mshnet'))
