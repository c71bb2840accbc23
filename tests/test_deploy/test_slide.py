"""Slide inference of exported models equals mmseg's for the PyTorch model."""
import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from test_tools.conftest import DEMO_CONFIG

from mmseg_serank.deploy import ProbabilityModel
from mmseg_serank.deploy.export import load_segmentor
from mmseg_serank.deploy.slide import sigmoid, slide_logits, slide_settings

from .conftest import width_options


@pytest.mark.parametrize('shape, crop, stride', [((70, 101), (48, 48), (36, 36)),
                                                 ((33, 47), (40, 30), (20, 25)),
                                                 ((64, 64), (64, 64), (48, 48))])
def test_windows_and_average_equal_mmseg_slide_inference(tiny_checkpoint, shape, crop, stride):
    """Edge windows shifted inside the image, windows larger than a side, one window."""
    model, _ = load_segmentor(str(DEMO_CONFIG), str(tiny_checkpoint), width_options())
    wrapped = ProbabilityModel(model).eval()
    image = torch.rand(1, 3, *shape, generator=torch.Generator().manual_seed(0)) * 255
    model.test_cfg = ConfigDict(mode='slide', crop_size=crop, stride=stride)
    with torch.no_grad():
        expected = model.slide_inference(wrapped.preprocess(image),
                                         [dict(img_shape=shape, ori_shape=shape)])

        def logits(pixels):
            return wrapped.logits(torch.from_numpy(pixels)).numpy()

        actual = slide_logits(logits, image.numpy(), crop, stride)
    assert actual.shape == tuple(expected.shape)
    np.testing.assert_allclose(actual, expected.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(sigmoid(actual), expected.sigmoid().numpy(), rtol=0, atol=1e-6)


def test_settings_follow_the_config_then_the_size_rule():
    assert slide_settings({'mode': 'whole'}, (100, 200), max_side=200, tile=64) is None
    assert slide_settings({}, (100, 201), max_side=200, tile=64) == ((64, 64), (48, 48))
    config = {'mode': 'slide', 'crop_size': (32, 40), 'stride': (16, 20)}
    assert slide_settings(config, (10, 10), max_side=200, tile=64) == ((32, 40), (16, 20))
    assert slide_settings(config, (10, 10)) == ((32, 40), (16, 20))
