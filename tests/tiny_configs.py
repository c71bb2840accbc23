"""Size changes shared by the tests that run the real configs on a 2-core CPU.

Only widths and crop sizes change; everything else stays as configured.
"""
from typing import List


def set_serankdet_width(model: dict, width: int) -> None:
    """Give a SeRankDet model config stage widths ``width * 2**i`` (the one setting)."""
    model['backbone']['base_channels'] = width


def set_train_crop(pipeline: List[dict], side: int) -> None:
    """Rescale around, pad to and crop ``side`` px in a reference train pipeline."""
    for transform in pipeline:
        if transform['type'] == 'RandomRescaleLongSide':
            transform['base_size'] = side
        elif transform['type'] == 'PadToMinSize':
            transform['size'] = (side, side)
        elif transform['type'] == 'RandomCrop':
            transform['crop_size'] = (side, side)


# Stage widths of the peer networks that have a width setting (the heads follow;
# their channel attention needs at least 16 channels).
TINY_PEER_WIDTHS = {'DNANet': (16, 16, 16, 32, 32), 'MSHNet': (16, 16, 16, 32, 32)}


def shrink_model(model: dict) -> None:
    """Make a shipped config's model small (SeRankDet, the UNet baseline and
    the peers with a width setting; the other peers are small or fixed-size)."""
    backbone = model['backbone']
    if backbone['type'] == 'SeRankDet':
        set_serankdet_width(model, 4)
    elif backbone['type'] in TINY_PEER_WIDTHS:
        backbone['widths'] = TINY_PEER_WIDTHS[backbone['type']]
    elif backbone['type'] == 'UNet':
        backbone['base_channels'] = 8
        model['decode_head']['in_channels'] = model['decode_head']['channels'] = 8
        model['auxiliary_head']['in_channels'] = 16
        model['auxiliary_head']['channels'] = 8
