import math

import pytest
import torch

from mmseg_serank.models.layers import (
    CentralDifferenceConv2d,
    SeRankAttention,
    sinusoidal_position_term,
)


def reference_style_table(size: int) -> torch.Tensor:
    """The E x E table as SERANKDET.md describes it (sin on even, cos on odd columns)."""
    table = torch.zeros(size, size)
    position = torch.arange(0, size).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, size, 2) * (-math.log(10000.0) / size))
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


def test_position_term_equals_reference_table_inside_it():
    for size in (32, 64, 512):
        rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size),
                                    indexing='ij')
        ours = sinusoidal_position_term(rows, cols, size)
        assert torch.allclose(ours, reference_style_table(size), atol=1e-6, rtol=0)


def test_position_term_extends_beyond_table():
    rows = torch.tensor([0, 40, 100])
    cols = torch.tensor([71, 33, 2])
    values = sinusoidal_position_term(rows, cols, 32)
    assert torch.isfinite(values).all()
    assert values[0].item() == 1.0  # row 0, odd column 71 -> cos(0)


def test_rank_selection_adds_position_code_in_raster_order():
    attention = SeRankAttention(topk=3, pos_table_size=8)
    x = torch.zeros(1, 1, 2, 4)
    x[0, 0, 1, 2], x[0, 0, 0, 1], x[0, 0, 1, 3] = 5.0, 4.0, 3.0
    selected = attention.select_ranked(x)
    table = reference_style_table(8)
    expected = torch.tensor([4.0 + table[0, 1], 5.0 + table[1, 2], 3.0 + table[1, 3]])
    assert torch.allclose(selected[0, 0], expected, atol=1e-6)


def test_rank_attention_small_map_zero_pads_selection():
    torch.manual_seed(0)
    attention = SeRankAttention(topk=8, pos_table_size=8)
    x = torch.randn(2, 3, 2, 2)
    selected = attention.select_ranked(x)
    assert selected.shape == (2, 3, 8)
    assert (selected[..., 4:] == 0).all()
    assert attention(x).shape == x.shape


def test_cdc_fold_matches_difference_form():
    torch.manual_seed(0)
    for dilation in (1, 2):
        cdc = CentralDifferenceConv2d(3, 5, 3, padding=dilation, dilation=dilation,
                                      theta=0.7)
        x = torch.randn(2, 3, 9, 11)
        plain = cdc.to_plain_conv()
        assert type(plain) is torch.nn.Conv2d
        assert torch.allclose(cdc(x), plain(x), atol=1e-5)
        # the difference form itself, written out
        kernel_sum = cdc.weight.sum(dim=(2, 3), keepdim=True)
        expected = (torch.nn.functional.conv2d(x, cdc.weight, cdc.bias, padding=dilation,
                                               dilation=dilation)
                    - 0.7 * torch.nn.functional.conv2d(x, kernel_sum, cdc.bias))
        assert torch.allclose(cdc(x), expected, atol=1e-5)


def test_rank_attention_stays_finite_under_float16_autocast():
    """The C x C affinity sums 2K products of large activations; in float16 (AMP)
    it overflowed to inf and the standardisation made the whole output NaN."""
    torch.manual_seed(0)
    attention = SeRankAttention(topk=512, pos_table_size=512)
    features = torch.rand(2, 8, 64, 64) * 1000
    reference = attention(features)
    with torch.autocast('cpu', dtype=torch.float16):
        mixed = attention(features)
    assert torch.isfinite(mixed).all()
    relative = (mixed.float() - reference).abs().max() / reference.abs().max()
    assert relative < 1e-2


@pytest.mark.parametrize('dilation,stride', [(1, 1), (2, 1), (1, 2)])
def test_cdc_trains_as_one_conv_with_the_difference_form_gradients(dilation, stride):
    torch.manual_seed(0)
    cdc = CentralDifferenceConv2d(3, 5, 3, padding=dilation, dilation=dilation,
                                  stride=stride, bias=True).double()
    x = torch.randn(2, 3, 9, 11, dtype=torch.float64, requires_grad=True)

    def difference_form(inputs):
        kernel_sum = cdc.weight.sum(dim=(2, 3), keepdim=True)
        return (torch.nn.functional.conv2d(inputs, cdc.weight, cdc.bias, stride=stride,
                                           padding=dilation, dilation=dilation)
                - 0.7 * torch.nn.functional.conv2d(inputs, kernel_sum, cdc.bias,
                                                   stride=stride))

    grad_out = torch.randn_like(difference_form(x))
    expected = torch.autograd.grad(difference_form(x), (x, cdc.weight, cdc.bias), grad_out)
    cdc.train()
    assert cdc.foldable
    got = torch.autograd.grad(cdc(x), (x, cdc.weight, cdc.bias), grad_out)
    assert torch.allclose(cdc(x), difference_form(x), atol=1e-12)
    for got_grad, expected_grad in zip(got, expected):
        assert torch.allclose(got_grad, expected_grad, atol=1e-12)


def test_cdc_that_cannot_fold_keeps_the_difference_form_in_training():
    cdc = CentralDifferenceConv2d(2, 2, 3, padding=1, padding_mode='reflect').train()
    assert not cdc.foldable
    x = torch.randn(1, 2, 6, 6)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode='reflect')
    kernel_sum = cdc.weight.sum(dim=(2, 3), keepdim=True)
    expected = (torch.nn.functional.conv2d(padded, cdc.weight, cdc.bias)
                - 0.7 * torch.nn.functional.conv2d(x, kernel_sum, cdc.bias))
    assert torch.allclose(cdc(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match='odd kernel and centred zero padding'):
        cdc.to_plain_conv()
