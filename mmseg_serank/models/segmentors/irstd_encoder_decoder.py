"""EncoderDecoder whose decode head takes its input widths from the built backbone."""
import copy

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType


@MODELS.register_module()
class IRSTDEncoderDecoder(EncoderDecoder):
    """:class:`EncoderDecoder` where the model width is one setting.

    mmseg builds backbone and decode head from separate config dicts, so a
    width change needs the backbone's width and the head's ``in_channels`` and
    ``channels`` changed together. Here a head ``in_channels`` / ``channels``
    left ``None`` is filled from the built backbone's ``out_channels`` (all
    levels, and the first level), so ``model.backbone.base_channels`` alone sets
    the width. Values given explicitly are kept. Modules and state-dict keys are
    those of :class:`EncoderDecoder`.
    """

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        decode_head = copy.deepcopy(decode_head)
        if (decode_head.get('in_channels') is None or decode_head.get('channels') is None):
            widths = getattr(self.backbone, 'out_channels', None)
            if widths is None:
                raise ValueError(
                    f'IRSTDEncoderDecoder: model.decode_head.in_channels/channels are not '
                    f'set and the backbone {type(self.backbone).__name__} has no '
                    f'out_channels to take them from; set them in the config')
            if decode_head.get('in_channels') is None:
                decode_head['in_channels'] = list(widths)
            if decode_head.get('channels') is None:
                decode_head['channels'] = widths[0]
        super()._init_decode_head(decode_head)
