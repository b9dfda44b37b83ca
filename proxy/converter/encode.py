"""Viewable libvips image -> encoded bytes in the output format."""

from __future__ import annotations

from typing import cast

import pyvips

# Conversions are intermediates that previews scale and re-encode: keep them near the source.
QUALITY = 90


def encode(image: pyvips.Image, fmt: str) -> bytes:
    if fmt == "png":
        return cast(bytes, image.pngsave_buffer(compression=6, keep="none"))
    if fmt == "webp":
        return cast(bytes, image.webpsave_buffer(Q=QUALITY, keep="none"))
    if image.hasalpha():
        image = image.flatten(background=255)
    return cast(bytes, image.jpegsave_buffer(Q=QUALITY, keep="none"))


def default_format(image: pyvips.Image, *, lossy_source: bool) -> str:
    """PNG keeps lossless and high-bit-depth sources exact; JPEG suits photographic ones."""
    if lossy_source and not image.hasalpha():
        return "jpeg"
    return "png"
