"""Outputs libvips cannot write here: BMP and ICO (our own writers), HEIC (pillow-heif).

The BMP and ICO layouts are imgproxy's (vips/bmpsave.c, vips/icosave.c): BMP is top-down,
uncompressed, grey with a 256-entry palette or BGR/BGRA behind a V5 header; ICO is one
PNG image (at most 256 pixels a side) behind a one-entry directory.
"""

from __future__ import annotations

import io
import struct
from typing import cast

import numpy as np
import pyvips

from proxy.errors import Unprocessable

ICO_MAX = 256
# x265 through pillow-heif refuses sides past about 4200 px (imgproxy's libheif: 16384).
HEIC_MAX = 4096
_FILE_HEADER = 14
_INFO_HEADER = 40
_V5_HEADER = 124
_GREY_PALETTE = bytes(b for i in range(256) for b in (i, i, i, 0))
_SRGB = 0x73524742  # "sRGB" as the V5 header's colour-space tag
_INTENT_IMAGES = 4


def _eight_bit(image: pyvips.Image, bands: tuple[int, ...]) -> pyvips.Image:
    """An 8-bit image with a band count the writer takes (grey+alpha becomes RGBA)."""
    if image.format != "uchar":
        image = image.colourspace("srgb" if image.bands >= 3 else "b-w")
        image = image.cast("uchar") if image.format != "uchar" else image
    if image.bands not in bands:
        image = image.colourspace("srgb")
        if image.bands not in bands:
            image = image.bandjoin(255) if image.bands == 3 else image[:4]
    return image


def bmp(image: pyvips.Image) -> bytes:
    image = _eight_bit(image, (1, 3, 4))
    width, height, bands = image.width, image.height, image.bands
    pixels = np.ndarray((height, width, bands), np.uint8, cast(bytes, image.write_to_memory()))
    if bands >= 3:
        pixels = pixels[:, :, [2, 1, 0, 3][:bands]]  # libvips RGB(A) -> BMP BGR(A)
    stride = (width * bands + 3) & ~3
    rows = np.zeros((height, stride), np.uint8)
    rows[:, : width * bands] = pixels.reshape(height, width * bands)
    data = rows.tobytes()
    info_size = _INFO_HEADER if bands == 1 else _V5_HEADER
    palette = _GREY_PALETTE if bands == 1 else b""
    offset = _FILE_HEADER + info_size + len(palette)
    colours = 256 if bands == 1 else 0
    # A negative height: rows top-down, as imgproxy writes them.
    info = struct.pack(
        "<IiiHHIIiiII", info_size, width, -height, 1, bands * 8, 0, len(data), 0, 0, colours, 0
    )
    if bands > 1:
        masks = struct.pack("<IIIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000, _SRGB)
        info += masks + bytes(36 + 12) + struct.pack("<IIII", _INTENT_IMAGES, 0, 0, 0)
    head = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    return head + info + palette + data


def ico(image: pyvips.Image) -> bytes:
    if image.width > ICO_MAX or image.height > ICO_MAX:
        raise Unprocessable(f"ICO images are at most {ICO_MAX} pixels a side")
    image = _eight_bit(image, (3, 4))
    png = cast(bytes, image.pngsave_buffer())
    bpp = 32 if image.bands == 4 else 24
    entry = struct.pack(
        "<BBBBHHII", image.width % 256, image.height % 256, 0, 0, 1, bpp, len(png), 22
    )
    return struct.pack("<HHH", 0, 1, 1) + entry + png


def heic(image: pyvips.Image, quality: int) -> bytes:
    import pillow_heif  # imported late: it loads libheif, needed only for HEIC

    image = _eight_bit(image, (3, 4))  # imgproxy writes HEIC at 8 bits, whatever it had
    mode = "RGBA" if image.bands == 4 else "RGB"
    data = cast(bytes, image.write_to_memory())
    heif = pillow_heif.from_bytes(mode, (image.width, image.height), data)
    out = io.BytesIO()
    try:
        # x265's default preset takes seconds for one photo; "fast" keeps a render a render.
        heif.save(out, quality=quality, enc_params={"preset": "fast"})
    except RuntimeError as exc:  # libheif's one error type, whatever went wrong
        raise Unprocessable(f"cannot write HEIC: {exc}") from None
    return out.getvalue()
