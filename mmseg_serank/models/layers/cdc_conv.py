"""Central difference convolution (CDC) and its fold into a plain convolution."""
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

    def forward(self, x: Tensor) -> Tensor:
        plain = self._conv_forward(x, self.weight, self.bias)
        if self.theta == 0:
            return plain
        kernel_sum = self.weight.sum(dim=(2, 3), keepdim=True)
        centre = F.conv2d(x, kernel_sum, self.bias, stride=self.stride, padding=0,
                          groups=self.groups)
        return plain - self.theta * centre

    def to_plain_conv(self) -> nn.Conv2d:
        """An ordinary conv computing the same function (for deployment).

        The centre tap absorbs ``-theta * sum(W)`` and the bias becomes
        ``(1 - theta) * b``. Only valid when the 1x1 term lines up with the
        kernel centre, i.e. odd kernels with 'same'-style zero padding.
        """
        kernel_h, kernel_w = self.kernel_size
        expected_padding = (self.dilation[0] * (kernel_h // 2),
                            self.dilation[1] * (kernel_w // 2))
        if (kernel_h % 2 == 0 or kernel_w % 2 == 0 or self.padding != expected_padding
                or self.padding_mode != 'zeros'):
            raise ValueError(
                'CentralDifferenceConv2d can only be folded with an odd kernel and '
                f'centred zero padding; got kernel {self.kernel_size}, padding '
                f'{self.padding}, dilation {self.dilation}, mode {self.padding_mode}')
        plain = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size,
                          stride=self.stride, padding=self.padding,
                          dilation=self.dilation, groups=self.groups,
                          bias=self.bias is not None).to(self.weight)
        with torch.no_grad():
            weight = self.weight.detach().clone()
            weight[:, :, kernel_h // 2, kernel_w // 2] -= (
                self.theta * self.weight.sum(dim=(2, 3)))
            plain.weight.copy_(weight)
            if self.bias is not None:
                plain.bias.copy_((1.0 - self.theta) * self.bias)
        return plain
