"""Importing mmseg_serank registers modules and changes nothing of mmengine or mmseg,
and the package's modules import each other without a cycle."""
import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set

PACKAGE_DIR = Path(__file__).resolve().parents[2] / 'mmseg_serank'

# Run in a fresh interpreter: mmengine and mmseg first (with a stand-in of the
# test's own for mmcv-lite's missing mmcv._ext), then the plugin.
SNAPSHOT_SCRIPT = '''
import importlib.util, inspect, sys, types



def compiled_op(name):
    if name.startswith('__'):
        raise AttributeError(name)
    return lambda *args, **kwargs: None


if importlib.util.find_spec('mmcv._ext') is None:
    stand_in = types.ModuleType('mmcv._ext')
    stand_in.__getattr__ = compiled_op
    sys.modules['mmcv._ext'] = stand_in

import mmengine.config, mmengine.dist, mmengine.fileio, mmengine.hooks, mmengine.infer
import mmengine.model, mmengine.registry, mmengine.runner, mmengine.structures
import mmseg.apis, mmseg.datasets, mmseg.engine, mmseg.evaluation, mmseg.models
import mmseg.structures, mmseg.utils, mmseg.visualization


def functions_of(value):
    """The functions a module attribute is or, for a class, holds."""
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return {'': value}
    if not inspect.isclass(value):
        return {}
    found = {}
    for name, member in vars(value).items():
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        elif isinstance(member, property):
            member = (member.fget, member.fset, member.fdel)
        if inspect.isfunction(member) or inspect.isbuiltin(member) or (
                isinstance(member, tuple)):
            found[name] = member
    return found


def snapshot():
    taken = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split('.')[0] not in ('mmengine', 'mmseg'):
            continue
        for name, value in list(vars(module).items()):
            for member, function in functions_of(value).items():
                taken[(module_name, name, member)] = function
    return taken


def same(first, second):
    """Identical objects (a property's getter, setter and deleter each)."""
    if isinstance(first, tuple) and isinstance(second, tuple):
        return len(first) == len(second) and all(a is b for a, b in zip(first, second))
    return first is second


before = snapshot()
import mmseg_serank  # noqa: E402,F401
after = snapshot()
changed = sorted('.'.join(filter(None, key)) for key, function in before.items()
                 if not same(after.get(key), function))
print(len(before), 'functions checked')
print('changed:', changed)
sys.exit(1 if changed or len(before) < 1000 else 0)
'''


def test_importing_the_package_replaces_no_function_of_mmengine_or_mmseg():
    result = subprocess.run([sys.executable, '-c', SNAPSHOT_SCRIPT], capture_output=True,
                            text=True, timeout=300, cwd=PACKAGE_DIR.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix('').parts)
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _imported_names(path: Path, module: str) -> Set[str]:
    """Package modules ``path`` imports anywhere in it (functions included: a
    late import only postpones a cycle)."""
    package = module if path.name == '__init__.py' else module.rpartition('.')[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f'{base}.{alias.name}' for alias in node.names)
    return {name for name in names if name.split('.')[0] == 'mmseg_serank'}


def import_graph() -> Dict[str, Set[str]]:
    """module -> package modules its import runs: each imported module and its
    parent packages, except the importer's own parents (already running)."""
    paths = {_module_name(p): p for p in PACKAGE_DIR.rglob('*.py')}
    graph = {}
    for module, path in paths.items():
        own_parents = {'.'.join(module.split('.')[:i]) for i in range(1, module.count('.') + 1)}
        edges = set()
        for name in _imported_names(path, module):
            parts = name.split('.')
            for i in range(1, len(parts) + 1):
                target = '.'.join(parts[:i])
                if target in paths and target not in own_parents and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle of ``graph`` (empty if none)."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and 'mmseg_serank.models' in graph['mmseg_serank']
    assert find_cycle(graph) == []
