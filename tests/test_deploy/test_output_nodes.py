"""Writers refuse output paths that are not regular files and leave them intact.

Every writer renames a finished temporary file onto its output name; onto a
device, FIFO, folder or link that would replace the node itself (``/dev/full``
became a 12 MB file). The real commands are run with such paths as OUT.
"""
import os
import stat
import subprocess
import sys

import pytest
import torch
from test_models.test_peer_parity import authors_state, load_fixture
from test_tools.conftest import DEMO_CONFIG, REPO_ROOT, tiny_model_options

from mmseg_serank.checkpoint import NotARegularFileError, save_atomically


def run_failing_tool(args) -> subprocess.CompletedProcess:
    """Run a command from the repository root; it must exit 1."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    result = subprocess.run([str(a) for a in args], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    return result


def special_nodes(tmp_path):
    """A FIFO, a folder, a link and, where the system allows, a character
    device with /dev/null's numbers (writing into it would be harmless)."""
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    folder = tmp_path / 'folder'
    folder.mkdir()
    link = tmp_path / 'link.pth'
    (tmp_path / 'target.pth').write_bytes(b'keep me')
    link.symlink_to(tmp_path / 'target.pth')
    nodes = {'a FIFO': fifo, 'a folder': folder, 'a symbolic link': link}
    device = tmp_path / 'null'
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        nodes['a device'] = device
    except (PermissionError, OSError):
        pass  # not root: the FIFO stands for every node type
    return nodes


def node_kinds(nodes):
    return {path: stat.S_IFMT(os.lstat(path).st_mode) for path in nodes.values()}


def test_save_atomically_refuses_every_node_and_keeps_it(tmp_path):
    nodes = special_nodes(tmp_path)
    before = node_kinds(nodes)
    for kind, path in nodes.items():
        with pytest.raises(NotARegularFileError, match=kind):
            save_atomically({'x': torch.zeros(1)}, path)
    assert node_kinds(nodes) == before
    assert (tmp_path / 'target.pth').read_bytes() == b'keep me'
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ['target.pth', *(p.name for p in nodes.values())])  # no temporary left


def test_commands_refuse_a_node_as_output_and_leave_it(tiny_checkpoint, tmp_path):
    nodes = special_nodes(tmp_path)
    before = node_kinds(nodes)
    source = tmp_path / 'rdian_authors.pth'
    torch.save(authors_state(load_fixture('rdian')), source)
    options = ['--cfg-options', *tiny_model_options()]
    converter = ['tools/model_converters/rdian2mmseg.py', source]
    checkpoint_tools = [
        ['tools/deployment/export_onnx.py', DEMO_CONFIG, tiny_checkpoint],
        ['tools/deployment/reparameterize.py', DEMO_CONFIG, tiny_checkpoint]]
    for kind, out in nodes.items():
        # Every node kind for the converter; the device-like nodes (FIFO, device)
        # for the model tools, which share the check (each run costs seconds).
        commands = [converter + [out]]
        if kind in ('a FIFO', 'a device'):
            commands += [tool + [out, *options] for tool in checkpoint_tools]
        for command in commands:
            result = run_failing_tool([sys.executable, *command])
            assert f'is {kind}; refusing to replace it' in result.stderr, result.stderr
            assert 'Traceback' not in result.stderr
            assert 'wrote' not in result.stdout
    assert node_kinds(nodes) == before
    assert (tmp_path / 'target.pth').read_bytes() == b'keep me'
