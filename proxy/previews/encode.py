"""Encoding the processed image: per-format savers, metadata policy and `max_bytes`."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pyvips

from proxy.errors import Unprocessable
from proxy.previews import writers
from proxy.previews.copyright import filter_iptc, filter_xmp
from proxy.previews.formats import SPECS
from proxy.previews.options import Options

# EXIF fields that keep_copyright preserves when everything else is stripped.
COPYRIGHT_FIELDS = ("exif-ifd0-Copyright", "exif-ifd0-Artist")
# What imgproxy's strip resets the resolution to: 72 dpi, in pixels per millimetre.
STRIPPED_RESOLUTION = 72 / 25.4
# Formats whose size follows the quality, so max_bytes can lower it. TIFF is one for
# imgproxy, but its saver ignores the quality (no JPEG compression): trying would only
# re-encode the same bytes.
FIT_BYTES = frozenset(f for f, spec in SPECS.items() if spec.quality) - {"tiff"}

Saver = Callable[[pyvips.Image, int, str], bytes]


def _has(operation: str) -> bool:
    return bool(pyvips.type_find("VipsOperation", operation))


def _lossy(method: str, **fixed: object) -> Saver:
    def save(image: pyvips.Image, quality: int, keep: str) -> bytes:
        return cast(bytes, getattr(image, method)(Q=quality, keep=keep, **fixed))

    return save


def _lossless(method: str, **fixed: object) -> Saver:
    def save(image: pyvips.Image, quality: int, keep: str) -> bytes:
        return cast(bytes, getattr(image, method)(keep=keep, **fixed))

    return save


def palette_bits(image: pyvips.Image) -> int:
    """The bits a palette source's palette had (0: no palette), as libvips's loaders note
    them: imgproxy's vips_get_palette_bit_depth."""
    if image.get_typeof("palette") and image.get("palette"):
        return int(image.get("bits-per-sample")) if image.get_typeof("bits-per-sample") else 8
    if image.get_typeof("palette-bit-depth"):  # libvips before 8.15
        return int(image.get("palette-bit-depth"))
    return 0


def _png(image: pyvips.Image, quality: int, keep: str) -> bytes:
    """imgproxy's vips_pngsave_go: a palette source stays a palette PNG (of 1, 2, 4 or 8
    bits), quantised again after processing."""
    bits = palette_bits(image)
    if not 0 < bits <= 8:
        return cast(bytes, image.pngsave_buffer(keep=keep, compression=6))
    bits = 8 if bits > 4 else 4 if bits > 2 else bits
    return cast(bytes, image.pngsave_buffer(keep=keep, palette=True, bitdepth=bits))


def _gif(image: pyvips.Image, quality: int, keep: str) -> bytes:
    """imgproxy's vips_gifsave_go: as many bits a pixel as the source's palette had."""
    bits = palette_bits(image)
    return cast(bytes, image.gifsave_buffer(keep=keep, bitdepth=bits if 0 < bits <= 8 else 8))


SAVERS: dict[str, Saver] = {
    "jpeg": _lossy("jpegsave_buffer", optimize_coding=True),
    "png": _png,
    "webp": _lossy("webpsave_buffer", effort=4),
    # imgproxy's effort: 9 - IMGPROXY_AVIF_SPEED, whose default is 8.
    "avif": _lossy("heifsave_buffer", compression="av1", effort=1),
    "gif": _gif,
    "tiff": _lossless("tiffsave_buffer", compression="deflate"),
    "bmp": lambda image, quality, keep: writers.bmp(image),
    "ico": lambda image, quality, keep: writers.ico(image),
    "heic": lambda image, quality, keep: writers.heic(image, quality),
}
if _has("jxlsave_buffer"):
    SAVERS["jxl"] = _lossy("jxlsave_buffer", effort=4)


def check_savable(fmt: str) -> None:
    """imgproxy answers a format it cannot write with 422, before any processing."""
    if fmt == "svg":
        raise Unprocessable("only SVG sources can be answered as SVG")
    if fmt not in SAVERS:
        raise Unprocessable(f"this server's libvips cannot write {fmt}")


def metadata_policy(image: pyvips.Image, options: Options, fmt: str) -> tuple[pyvips.Image, str]:
    """The image with only the metadata to keep, and libvips's `keep` flags for the saver."""
    keep: list[str] = []
    image = image.copy()  # its own metadata table: the removals below are not shared
    if not options.strip_color_profile and SPECS[fmt].colour_profile:
        keep.append("icc")
    elif image.get_typeof("icc-profile-data"):
        image.remove("icc-profile-data")
    if not options.strip_metadata:
        return image, "|".join([*keep, "exif", "xmp", "iptc", "other"])
    image = image.copy(xres=STRIPPED_RESOLUTION, yres=STRIPPED_RESOLUTION)
    fields = image.get_fields()
    if not options.keep_copyright:
        return image, "|".join(keep) or "none"
    if any(f in fields for f in COPYRIGHT_FIELDS):
        # libvips rebuilds EXIF from the exif-* fields on save: drop all but the copyright.
        for name in fields:
            if name.startswith("exif-ifd") and name not in COPYRIGHT_FIELDS:
                image.remove(name)
        keep.append("exif")
    for name, flag, keep_only in (
        ("iptc-data", "iptc", filter_iptc),
        ("xmp-data", "xmp", filter_xmp),
    ):
        if name not in fields:
            continue
        kept = keep_only(cast(bytes, image.get(name)))
        image.remove(name)
        if kept:
            image.set_type(pyvips.GValue.blob_type, name, kept)
            keep.append(flag)
    return image, "|".join(keep) or "none"


def save(image: pyvips.Image, fmt: str, quality: int, keep: str) -> bytes:
    saver = SAVERS.get(fmt)
    if saver is None:
        raise ValueError(f"no saver for {fmt}")
    return saver(image, quality, keep)


def encode(image: pyvips.Image, fmt: str, quality: int, options: Options) -> bytes:
    """Encode; with max_bytes, lower the quality as imgproxy does until the body fits."""
    image, keep = metadata_policy(image, options, fmt)
    if not options.max_bytes or fmt not in FIT_BYTES:
        return save(image, fmt, quality, keep)
    # Each try re-encodes; the pixels are computed once and kept.
    image = image.copy_memory()
    body = save(image, fmt, quality, keep)
    while len(body) > options.max_bytes and quality > 10:
        ratio = len(body) / options.max_bytes
        factor = 0.25 if ratio > 3 else 0.5 if ratio > 1.5 else 0.75
        quality = max(1, int(quality * factor))
        body = save(image, fmt, quality, keep)
    return body
