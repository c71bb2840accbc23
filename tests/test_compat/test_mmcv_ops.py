"""mmseg imports under mmcv-lite; a compiled op that is called says why it fails."""
import subprocess
import sys

import pytest
import torch

from mmseg_serank.compat import CompiledOpUnavailableError, has_compiled_mmcv_ops


def test_mmseg_packages_import_in_a_fresh_interpreter():
    code = ('import mmseg_serank, mmseg.models, mmseg.utils, mmseg.apis; '
            'from mmseg.registry import MODELS; '
            'assert MODELS.get("EncoderDecoder") is not None')
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.skipif(has_compiled_mmcv_ops(), reason='full mmcv is installed')
def test_compiled_op_call_raises_clear_error():
    from mmcv.ops import sigmoid_focal_loss
    with pytest.raises(CompiledOpUnavailableError, match='mmcv-lite'):
        sigmoid_focal_loss(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long),
                           2.0, 0.25)


def test_pure_python_mmcv_op_still_works():
    from mmcv.ops import point_sample
    feats = torch.arange(16.).view(1, 1, 4, 4)
    points = torch.tensor([[[0.5, 0.5]]])
    sampled = point_sample(feats, points, align_corners=False)
    assert sampled.shape == (1, 1, 1)
    assert torch.isclose(sampled.flatten()[0], torch.tensor(7.5))
