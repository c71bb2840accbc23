"""One exported ONNX file equals the PyTorch model at every size, on both backends."""
import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from test_tools.conftest import DEMO_CONFIG, REPO_ROOT, run_tool, tiny_model_options

import mmseg_serank.deploy.export as export_module
from mmseg_serank.deploy import OnnxRuntimeRunner, OpenVINORunner, ProbabilityModel
from mmseg_serank.deploy.export import (
    TorchRunner,
    build_segmentor,
    check_sizes_images,
    first_flip_stage,
    load_segmentor,
    probability_and_attention_inputs,
    write_verified_onnx,
)
from mmseg_serank.models.layers.serank_attention import rank_positions

from .conftest import PARITY_SIZES, WIDTH, randomise_statistics, width_options

RUNNERS = {'onnxruntime': OnnxRuntimeRunner, 'openvino': OpenVINORunner}


class Unfaithful(ProbabilityModel):
    """Right in PyTorch, logits 0.1 off in the traced graph."""

    def logits(self, image):
        logits = super().logits(image)
        return logits + 0.1 if torch.jit.is_tracing() else logits


@pytest.fixture(scope='module')
def eval_form(tiny_checkpoint):
    """The eval-form model users run in PyTorch (tools/test.py, tools/infer.py)."""
    model, _ = load_segmentor(str(DEMO_CONFIG), str(tiny_checkpoint), width_options())
    return TorchRunner(ProbabilityModel(model))


@pytest.mark.parametrize('backend', sorted(RUNNERS))
def test_one_file_equals_pytorch_at_every_size(backend, exported_onnx, eval_form):
    """Sizes other than the traced 64x96, not multiples of 16, larger than it,
    and a batch of two: the padding, K and crop follow the input in the graph.
    The traced file of the old code was off by up to 1.0 here."""
    runner = RUNNERS[backend](str(exported_onnx))
    images = check_sizes_images([(1, h, w) for h, w in PARITY_SIZES] + [(2, 40, 24)], seed=1)
    for image in images:
        expected = eval_form(image.numpy())
        actual = runner(image.numpy())
        assert actual.shape == expected.shape == (image.shape[0], 1, *image.shape[2:])
        assert actual.dtype == np.float32
        difference = np.abs(actual - expected).max()
        assert difference <= 1e-4, (backend, tuple(image.shape), difference)


def test_top_k_ties_go_to_the_lowest_positions():
    """Exact ties at the K-th value (zeros after ReLU) are broken by position,
    the rule ONNX Runtime follows; torch.topk took the highest positions here."""
    flat = torch.zeros(1, 2, 64)
    flat[0, 1, 40] = 1.0
    positions = rank_positions(flat, 32)
    assert positions[0, 0].tolist() == list(range(32))
    assert positions[0, 1].tolist() == list(range(31)) + [40]


def test_rank_positions_follow_the_rule_on_tie_heavy_rows():
    """Eager (top-K+1 check, exact rule on tied rows) and traced (exact rule on
    every row) selections both equal a stable descending sort's first K."""
    flat = torch.randint(0, 4, (3, 5, 50), generator=torch.Generator().manual_seed(0)).float()
    for k in (1, 7, 20, 49, 50):
        expected = torch.sort(flat, dim=2, descending=True, stable=True).indices[..., :k]
        expected = expected.sort(dim=2).values
        assert torch.equal(rank_positions(flat, k), expected)
        traced = torch.jit.trace(lambda x, k=k: rank_positions(x, k), flat, check_trace=False)
        assert torch.equal(traced(flat), expected)


def test_rank_positions_equal_sorted_topk_without_ties():
    """Without ties the selection is the reference's topk + sort, unchanged."""
    flat = torch.randn(2, 8, 300, generator=torch.Generator().manual_seed(0))
    for k in (1, 37, 300):
        expected = torch.topk(flat, k, dim=2).indices.sort(dim=2).values
        assert torch.equal(rank_positions(flat, k), expected)


def test_export_refuses_a_graph_that_differs(tiny_checkpoint, tmp_path):
    """A graph that differs from PyTorch is not written and an existing file
    at the destination is kept."""

    _, deployed = load_segmentor(str(DEMO_CONFIG), str(tiny_checkpoint), width_options())
    out = tmp_path / 'model.onnx'
    out.write_bytes(b'earlier file')
    with pytest.raises(ValueError, match='differs from PyTorch'):
        write_verified_onnx(Unfaithful(deployed), str(out))
    assert out.read_bytes() == b'earlier file'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.onnx']


def test_export_tool_exits_non_zero_and_writes_nothing(tiny_checkpoint, tmp_path):
    """The command-line refusal: a tolerance no float graph meets."""
    out = tmp_path / 'model.onnx'
    with pytest.raises(AssertionError, match='not writing'):
        run_tool([sys.executable, 'tools/deployment/export_onnx.py', DEMO_CONFIG,
                  tiny_checkpoint, out, '--tolerance', '0', '--cfg-options',
                  *tiny_model_options(WIDTH)])
    assert list(tmp_path.iterdir()) == []


def run_export_tool(config, checkpoint, out, *extra):
    """tools/deployment/export_onnx.py as a user runs it; returns the finished process."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, 'tools/deployment/export_onnx.py', str(config),
                           str(checkpoint), str(out), *extra], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_model_without_a_deploy_form_is_named_and_nothing_written(tmp_path):
    """A baseline's config and checkpoint (UNet): the old tool died in an
    AttributeError traceback after loading the checkpoint. The export takes
    SeRankDet and the peer networks (heads derived from MultiOutputHead)."""
    config = 'configs/baselines/unet-s5-d16_fcn_1xb4-1k_sirst-256x256.py'
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    checkpoint = tmp_path / 'unet.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(), 'meta': {}}, checkpoint)
    out = tmp_path / 'unet.onnx'
    result = run_export_tool(config, checkpoint, out)
    assert result.returncode == 1, result.stderr[-3000:]
    assert (f'error: {config}: model.decode_head is FCNHead, which the export does not '
            'handle') in result.stderr, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    assert not out.exists()


def test_an_output_folder_that_does_not_exist_is_named(tiny_checkpoint, tmp_path):
    """The old message named only the exporter's hidden temporary file."""
    out = tmp_path / 'missing' / 'model.onnx'
    result = run_export_tool(DEMO_CONFIG, tiny_checkpoint, out,
                             '--cfg-options', *tiny_model_options(WIDTH))
    assert result.returncode == 1, result.stderr[-3000:]
    assert f'error: cannot write {out}: No such file or directory' in result.stderr
    assert '.tmp' not in result.stderr
    assert not out.parent.exists()


@pytest.fixture
def flips_everywhere(monkeypatch):
    """Every size reports a top-K flip at stage 1: the other runtime's selection
    (the second of each pair of calls) is made to look different."""
    calls = []

    def flipped(values, k):
        calls.append(None)
        positions = rank_positions(values, k)
        return positions + 1 if len(calls) % 2 == 0 else positions

    monkeypatch.setattr(export_module, 'rank_positions', flipped)


def test_a_faithful_graph_is_written_even_where_every_size_flips(
        flips_everywhere, tiny_checkpoint, tmp_path):
    """Flipped sizes are still verified module by module (each fed ONNX Runtime's
    own inputs), so a correct graph is accepted; the old check refused it."""
    _, deployed = load_segmentor(str(DEMO_CONFIG), str(tiny_checkpoint), width_options())
    out = tmp_path / 'model.onnx'
    results = write_verified_onnx(ProbabilityModel(deployed).eval(), str(out))
    assert out.is_file()
    assert all(r['flip_stage'] == 1 for r in results.values())
    assert all(r['forced_error'] <= 1e-4 for r in results.values()), results


def test_a_wrong_graph_is_refused_even_where_every_size_flips(
        flips_everywhere, tiny_checkpoint, tmp_path):
    """A flip does not excuse a wrong operation: the decoder fed ONNX Runtime's
    stage outputs disagrees with its probability, so nothing is written."""

    _, deployed = load_segmentor(str(DEMO_CONFIG), str(tiny_checkpoint), width_options())
    out = tmp_path / 'model.onnx'
    with pytest.raises(ValueError, match='differs from PyTorch'):
        write_verified_onnx(Unfaithful(deployed).eval(), str(out))
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize('width', [16, 64])
def test_width_16_and_64_files_at_the_issue_sizes(width, tmp_path):
    """One exported file per width, checked at 128x128, 96x352, 200x136, 33x47 and
    512x512 against PyTorch (random weights with trained-like BN statistics).
    Every module fed ONNX Runtime's own inputs agrees within 1e-4 at every size,
    and so does the probability wherever no top-K flip happened; the width-64
    model flips at stage 4 at some sizes (float rounding, see the README). The
    same is asked of PyTorch's own eval form against its deploy form, whose
    only difference is the rounding of the folded weights; ``pytest -s`` prints
    both comparisons (the README quotes them)."""
    torch.manual_seed(0)
    model = build_segmentor(str(DEMO_CONFIG), width_options(width))
    randomise_statistics(model)
    eval_form = ProbabilityModel(copy.deepcopy(model).eval()).eval()
    model.backbone.switch_to_deploy()
    model.decode_head.switch_to_deploy()
    deploy_form = ProbabilityModel(model.eval()).eval()
    out = tmp_path / f'w{width}.onnx'
    sizes = [(1, h, w) for h, w in PARITY_SIZES]
    results = write_verified_onnx(deploy_form, str(out), sizes=sizes)
    assert sorted(results) == sorted(f'1x{h}x{w}' for h, w in PARITY_SIZES)
    for size, result in results.items():
        assert result['forced_error'] <= 1e-4, (width, size, result)
        if result['flip_stage'] is None:
            assert result['difference'] <= 1e-4, (width, size, result)
    if width == 16:
        assert all(r['flip_stage'] is None for r in results.values()), results

    attentions = list(model.backbone.rank_attentions)
    print(f'\nwidth {width}: ONNX Runtime vs PyTorch deploy form | PyTorch eval vs deploy form')
    for image, (size, result) in zip(check_sizes_images(sizes), results.items()):
        deployed, deployed_inputs = probability_and_attention_inputs(deploy_form, image)
        evaluated, evaluated_inputs = probability_and_attention_inputs(eval_form, image)
        folding_flip = first_flip_stage(attentions, evaluated_inputs, deployed_inputs)
        folding_difference = float((evaluated - deployed).abs().max())
        if folding_flip is None:
            assert folding_difference <= 1e-4, (width, size, folding_difference)
        print(f'  {size}: {result["difference"]:.1e}, flip at stage {result["flip_stage"]}, '
              f'modules {result["forced_error"]:.1e} | {folding_difference:.1e}, '
              f'flip at stage {folding_flip}')
