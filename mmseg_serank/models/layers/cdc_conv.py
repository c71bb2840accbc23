"""Central difference convolution (CDC) and its fold into a plain convolution."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class CentralDifferenceConv2d(nn.Conv2d):
    """``y = conv(x; W, b) - theta * conv1x1(x; sum_hw(W), b)``.

    The difference term subtracts each window's centre value weighted by the
    kernel sum, so the layer responds to local contrast rather than to level,
    which is what makes a dim point target stand out from a smooth background.
    Subclassing :class:`nn.Conv2d` keeps the parameter names (``weight``,
    ``bias``) and lets ``ConvModule(conv_cfg=dict(type=CentralDifferenceConv2d))``
    build it.

    Args:
        theta (float): Weight of the difference term; the reference uses 0.7.
    """

    def __init__(self, *args, theta: float = 0.7, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.theta = float(theta)
        kernel_h, kernel_w = self.kernel_size
        # The 1x1 term lines up with the kernel centre only for odd kernels
        # with centred zero padding; only then is the layer one convolution.
        self.foldable = (kernel_h % 2 == 1 and kernel_w % 2 == 1
                         and self.padding == (self.dilation[0] * (kernel_h // 2),
                                              self.dilation[1] * (kernel_w // 2))
                         and self.padding_mode == 'zeros')

    def folded_parameters(self) -> Tuple[Tensor, Optional[Tensor]]:
        """Kernel and bias of the one convolution equal to this layer.

        The centre tap absorbs ``-theta * sum(W)`` and the bias becomes
        ``(1 - theta) * b``; both are differentiable in ``W`` and ``b``, so
        training through them gives the gradients of the difference form.
        """
        kernel_h, kernel_w = self.kernel_size
        kernel_sum = self.weight.sum(dim=(2, 3), keepdim=True)
        centre_term = F.pad(kernel_sum, (kernel_w // 2, kernel_w // 2,
                                         kernel_h // 2, kernel_h // 2))
        weight = self.weight - self.theta * centre_term
        bias = None if self.bias is None else (1.0 - self.theta) * self.bias
        return weight, bias

    def forward(self, x: Tensor) -> Tensor:
        if self.theta == 0:
            return self._conv_forward(x, self.weight, self.bias)
        if self.training and self.foldable:
            # One convolution instead of two plus a weighted difference: the
            # same function and gradients, fewer kernels per training step.
            # Evaluation keeps the difference form, the reference's arithmetic.
            return self._conv_forward(x, *self.folded_parameters())
        plain = self._conv_forward(x, self.weight, self.bias)
        kernel_sum = self.weight.sum(dim=(2, 3), keepdim=True)
        centre = F.conv2d(x, kernel_sum, self.bias, stride=self.stride, padding=0,
                          groups=self.groups)
        return plain - self.theta * centre

    def to_plain_conv(self) -> nn.Conv2d:
        """An ordinary conv computing the same function (for deployment).

        Only valid when the 1x1 term lines up with the kernel centre, i.e. odd
        kernels with 'same'-style zero padding.
        """
        if not self.foldable:
            raise ValueError(
                'CentralDifferenceConv2d can only be folded with an odd kernel and '
                f'centred zero padding; got kernel {self.kernel_size}, padding '
                f'{self.padding}, dilation {self.dilation}, mode {self.padding_mode}')
        plain = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size,
                          stride=self.stride, padding=self.padding,
                          dilation=self.dilation, groups=self.groups,
                          bias=self.bias is not None).to(self.weight)
        with torch.no_grad():
            weight, bias = self.folded_parameters()
            plain.weight.copy_(weight)
            if bias is not None:
                plain.bias.copy_(bias)
        return plain
