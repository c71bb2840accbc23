"""Deprecated path of tools/model_converters/serankdet2mmseg.py (same arguments).

Kept for one release so existing scripts keep working; it prints a
deprecation message and runs the converter at its new path.
"""
import os.path as osp
import runpy
import sys

NEW_PATH = osp.join(osp.dirname(osp.abspath(__file__)), 'model_converters',
                    'serankdet2mmseg.py')

if __name__ == '__main__':
    print('DeprecationWarning: tools/convert_official_checkpoint.py moved to '
          'tools/model_converters/serankdet2mmseg.py (same arguments); this path '
          'will be removed in the next release.', file=sys.stderr)
    sys.argv[0] = NEW_PATH
    runpy.run_path(NEW_PATH, run_name='__main__')
