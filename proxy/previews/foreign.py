"""Sources libvips cannot read here: BMP and ICO (Pillow), HEIC (pillow-heif).

imgproxy reads BMP and ICO with its own loaders and HEIC through libheif; this libvips
build has neither, so these decoders stand in. Each gives its size before a pixel is
decoded, so the limits are checked first, and returns a whole, upright image.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvips
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from proxy.blob import Blob
from proxy.errors import Unprocessable

# Pillow modes -> the mode handed to libvips (what keeps the pixels and the alpha).
_MODES = {"1": "L", "L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "I;16": "I;16"}
BMP_FILE_HEADER = 14
BI_RGB = 0


@dataclass(frozen=True)
class ForeignHeader:
    width: int
    height: int
    has_alpha: bool


@contextmanager
def _open(blob: Blob) -> Iterator[PILImage.Image]:
    with blob.open() as fh:
        try:
            picture = PILImage.open(fh)
        except PILImage.DecompressionBombError as exc:
            raise Unprocessable(f"source resolution over the limit: {exc}") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error) as exc:
            raise Unprocessable(f"source image is corrupt ({exc})") from None
        with picture:
            yield picture


def _bmp_fields(head: bytes) -> tuple[int, int, int, int] | None:
    """(info header size, bits per pixel, compression, alpha mask) of a BMP, if readable."""
    if len(head) < BMP_FILE_HEADER + 40:
        return None
    size, _, _, _, bpp, compression = struct.unpack_from("<IiiHHI", head, BMP_FILE_HEADER)
    alpha_mask = 0
    if size >= 56 and len(head) >= BMP_FILE_HEADER + 56:
        alpha_mask = struct.unpack_from("<I", head, BMP_FILE_HEADER + 52)[0]
    return size, bpp, compression, alpha_mask


def _bmp_has_alpha(head: bytes) -> bool:
    """imgproxy's rule: 32 bits a pixel is alpha, unless a V4/V5 header masks it out."""
    fields = _bmp_fields(head)
    if fields is None:
        return False
    size, bpp, _, alpha_mask = fields
    return bpp == 32 and (size <= 40 or alpha_mask != 0)


def header(blob: Blob, fmt: str, thumbnail: bool = False) -> ForeignHeader:
    if fmt == "heic":
        return _heic_header(blob, thumbnail)
    with _open(blob) as picture:
        width, height = picture.size
        alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    if fmt == "bmp":
        alpha = _bmp_has_alpha(blob.head(BMP_FILE_HEADER + 124))
    return ForeignHeader(width, height, alpha)


def load(blob: Blob, fmt: str, thumbnail: bool = False) -> pyvips.Image:
    if fmt == "heic":
        return _heic_load(blob, thumbnail)
    if fmt == "bmp" and _bmp_has_alpha(blob.head(BMP_FILE_HEADER + 124)):
        fields = _bmp_fields(blob.head(BMP_FILE_HEADER + 40))
        if fields is not None and fields[2] == BI_RGB:
            return _bmp_bgra(blob.read())
    with _open(blob) as picture:
        try:
            picture.load()
            return from_pillow(picture)
        except (OSError, ValueError, SyntaxError, struct.error) as exc:
            raise Unprocessable(f"source image is corrupt ({exc})") from None


def from_pillow(picture: PILImage.Image) -> pyvips.Image:
    mode = _MODES.get(picture.mode)
    if mode is None:
        has_alpha = picture.mode in ("PA", "P") and "transparency" in picture.info
        mode = "RGBA" if has_alpha or picture.mode == "PA" else "RGB"
    converted = picture if picture.mode == mode else picture.convert(mode)
    return _from_array(np.asarray(converted))


def _bmp_bgra(data: bytes) -> pyvips.Image:
    """An uncompressed 32-bit BMP with its fourth byte as alpha (Pillow would drop it)."""
    offset = struct.unpack_from("<I", data, 10)[0]
    width, height = struct.unpack_from("<ii", data, BMP_FILE_HEADER + 4)
    rows = abs(height)
    end = offset + width * 4 * rows
    if width <= 0 or rows == 0 or len(data) < end:
        raise Unprocessable("source image is truncated or corrupt")
    pixels = np.frombuffer(data, np.uint8, width * 4 * rows, offset).reshape(rows, width, 4)
    if height > 0:  # bottom-up rows
        pixels = pixels[::-1]
    return _from_array(pixels[:, :, [2, 1, 0, 3]])


def _heic_file(blob: Blob) -> Any:
    import pillow_heif  # imported late: it loads libheif, needed only for HEIC

    try:
        # From bytes: the HeifFile reads lazily and would outlive an open file handle.
        return pillow_heif.open_heif(blob.read(), convert_hdr_to_8bit=True)
    except Exception as exc:  # libheif reports every failure as a bare error
        raise Unprocessable(f"cannot decode HEIC image: {exc}") from None


def _heic_image(heif: Any, thumbnail: bool) -> Any:
    """The primary image, or its largest embedded thumbnail (enforce_thumbnail)."""
    if thumbnail:
        primary = heif[heif.primary_index]
        count = len(primary.info.get("thumbnails") or ())
        if count:
            thumbnails = [primary.get_thumbnail(i) for i in range(count)]
            return max(thumbnails, key=lambda t: t.size[0] * t.size[1])
    return heif


def _heic_header(blob: Blob, thumbnail: bool) -> ForeignHeader:
    image = _heic_image(_heic_file(blob), thumbnail)
    width, height = image.size
    return ForeignHeader(width, height, "A" in image.mode)


def _heic_load(blob: Blob, thumbnail: bool) -> pyvips.Image:
    image = _heic_image(_heic_file(blob), thumbnail)
    try:
        return _from_array(np.asarray(image))
    except Exception as exc:
        raise Unprocessable(f"cannot decode HEIC image: {exc}") from None


def _from_array(array: np.ndarray[Any, Any]) -> pyvips.Image:
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array))
    deep = image.format == "ushort"
    colour = image.bands >= 3
    kind = ("rgb16" if colour else "grey16") if deep else ("srgb" if colour else "b-w")
    return image.copy(interpretation=kind)
