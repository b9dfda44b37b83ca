"""imgproxy's OSS watermark (processing/watermark.go): one configured image, placed or tiled.

The watermark is fitted into `scale` times the image (its own size without a scale),
placed by the position gravity (it may stick out), or with `re` tiled an odd number of
times across and down, centred, the offsets becoming the spacing. Its alpha times the
opacity goes OVER the image, in the image's colour space (a grey image under a colour
watermark becomes colour). Animated images get it once per frame, at the same place.
"""

from __future__ import annotations

import math

import pyvips

from proxy.previews.geometry import position, scale_to_even
from proxy.previews.options import Watermark

REPLICATE = "re"
COLOUR = {"b-w": "srgb", "grey16": "rgb16"}
GREY = ("b-w", "grey16")


def _prepared(
    mark: pyvips.Image, spec: Watermark, width: int, height: int, dpr: float
) -> pyvips.Image:
    """The watermark at its final size (and, for `re`, with its spacing around it)."""
    if mark.interpretation not in ("srgb", "b-w", "rgb16", "grey16"):
        mark = mark.colourspace("srgb")
    if spec.scale > 0:
        box_w = max(scale_to_even(width, spec.scale), 1)
        box_h = max(scale_to_even(height, spec.scale), 1)
        factor = min(box_w / mark.width, box_h / mark.height)  # fit, enlarging allowed
        mark = mark.resize(factor, kernel="lanczos3")
    if spec.position.type == REPLICATE:
        pad_x = _spacing(spec.position.x, width, dpr)
        pad_y = _spacing(spec.position.y, height, dpr)
        if pad_x or pad_y:
            if not mark.hasalpha():
                mark = mark.bandjoin(_opaque(mark))
            mark = mark.embed(
                pad_x // 2,
                pad_y // 2,
                mark.width + pad_x,
                mark.height + pad_y,
                extend="background",
                background=[0],
            )
    return mark


def _spacing(value: float, side: int, dpr: float) -> int:
    spacing = round(value * dpr) if abs(value) >= 1 else round(side * value)
    # Past twice the image no other tile can show: the same picture, without a huge tile.
    return max(0, min(spacing, 2 * side))


def _opaque(image: pyvips.Image) -> int:
    return 65535 if image.interpretation in ("rgb16", "grey16") else 255


def _replicate(mark: pyvips.Image, width: int, height: int) -> pyvips.Image:
    across = math.ceil(width / mark.width)
    down = math.ceil(height / mark.height)
    across += 1 - across % 2  # odd, so one tile sits in the middle
    down += 1 - down % 2
    tiled = mark.replicate(across, down)
    return tiled.crop((tiled.width - width) // 2, (tiled.height - height) // 2, width, height)


def _composite(
    image: pyvips.Image, mark: pyvips.Image, left: int, top: int, opacity: float
) -> pyvips.Image:
    if not mark.hasalpha():
        mark = mark.bandjoin(_opaque(mark))
    if opacity < 1:
        mark = mark[:-1].bandjoin(mark[-1] * opacity)
    space = image.interpretation
    if space in GREY and mark.interpretation not in GREY:
        space = COLOUR[space]
    had_alpha, fmt = image.hasalpha(), image.format
    out = image.composite2(mark, "over", x=left, y=top, compositing_space=space).cast(fmt)
    if not had_alpha and out.hasalpha():
        out = out[:-1]
    return out


def apply(
    image: pyvips.Image,
    source: pyvips.Image,
    spec: Watermark,
    base_opacity: float,
    dpr: float,
    frames: int = 1,
) -> pyvips.Image:
    """`source`: the configured watermark image; `frames`: pages stacked in `image`."""
    width, frame_height = image.width, image.height // frames
    mark = _prepared(source, spec, width, frame_height, dpr)
    opacity = spec.opacity * base_opacity
    if spec.position.type == REPLICATE:
        tile = _replicate(mark, width, frame_height)
        if frames > 1:
            tile = tile.replicate(1, frames)
        return _composite(image, tile, 0, 0, opacity)
    left, top = position(
        width, frame_height, mark.width, mark.height, spec.position, dpr, overflow=True
    )
    if frames > 1:
        # Cropped to its frame, so it cannot show on the next one.
        cut_top = max(0, -top)
        cut_height = min(mark.height - cut_top, frame_height - max(top, 0))
        mark = mark.crop(0, cut_top, mark.width, cut_height)
        top = max(top, 0)
    for frame in range(frames):
        image = _composite(image, mark, left, top + frame * frame_height, opacity)
    return image
