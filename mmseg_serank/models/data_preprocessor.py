"""Data preprocessor for networks that take one (grey) input channel."""
from typing import Any, Sequence

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS
from torch import Tensor

__all__ = ['IRSTDDataPreProcessor', 'bgr_to_grey']

# ITU-R 601-2 luma in 16-bit fixed point, the integer rule of PIL's
# ``Image.convert('L')``, which the authors' one-channel loaders use
# (B, G, R order, as the loaders give BGR).
GREY_WEIGHTS_BGR = (7471, 38470, 19595)


def bgr_to_grey(image: Tensor) -> Tensor:
    """A (3, H, W) or (N, 3, H, W) BGR image in [0, 255] as one grey channel.

    Exactly PIL's ``convert('L')`` on 8-bit values (rounded, fixed point); a
    grey image stored as three equal channels is unchanged. Float arithmetic
    only (every intermediate is an integer below 2**24, exact in float32), so
    the same operations export to ONNX.
    """
    channel_dim = image.dim() - 3
    if image.shape[channel_dim] == 1:
        return image
    if image.shape[channel_dim] != 3:
        raise ValueError(f'expected a BGR image with 3 channels, got {tuple(image.shape)}')
    shape = [1] * image.dim()
    shape[channel_dim] = 3
    weights = torch.tensor(GREY_WEIGHTS_BGR, dtype=torch.float32,
                           device=image.device).view(shape)
    weighted = (image.float().round() * weights).sum(channel_dim, keepdim=True)
    return torch.floor((weighted + 32768) / 65536).to(image.dtype)


@MODELS.register_module()
class IRSTDDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` that can feed one-channel (grey) networks.

    The IR loaders give every image as 3-channel BGR (grey frames as three
    equal channels). ``grey=True`` turns it into one channel with PIL's luma
    rule, as the one-channel networks' authors load their data (ACM via
    BasicIRSTD, RDIAN, SCTransNet); ``mean`` and ``std`` then have one entry.

    Args:
        grey (bool): Feed one grey channel instead of three.
        **kwargs: :class:`SegDataPreProcessor`'s arguments.
    """

    def __init__(self, grey: bool = False, mean: Sequence[float] = None,
                 std: Sequence[float] = None, **kwargs) -> None:
        if grey:
            if kwargs.get('bgr_to_rgb') or kwargs.get('rgb_to_bgr'):
                raise ValueError('IRSTDDataPreProcessor: grey=True has one channel; '
                                 'bgr_to_rgb / rgb_to_bgr do not apply')
            for name, value in (('mean', mean), ('std', std)):
                if value is not None and len(value) != 1:
                    raise ValueError(f'IRSTDDataPreProcessor: grey=True needs a one-entry '
                                     f'{name}, got {list(value)}')
        super().__init__(mean=mean, std=std, **kwargs)
        self.grey = grey

    def cast_data(self, data: Any) -> Any:
        data = super().cast_data(data)
        if self.grey and isinstance(data, dict) and 'inputs' in data:
            inputs = data['inputs']
            if isinstance(inputs, Tensor):
                data['inputs'] = bgr_to_grey(inputs.float()).to(inputs.dtype)
            else:
                data['inputs'] = [bgr_to_grey(x.float()).to(x.dtype) for x in inputs]
        return data
