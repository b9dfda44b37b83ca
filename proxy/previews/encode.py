"""Encoding the processed image: per-format savers, metadata policy and `max_bytes`."""

from __future__ import annotations

from typing import cast

import pyvips

from proxy.previews.options import Options

# Formats whose size follows the quality setting, so max_bytes can lower it.
LOSSY = frozenset({"jpeg", "webp", "avif"})
# EXIF fields that keep_copyright preserves when everything else is stripped.
COPYRIGHT_FIELDS = ("exif-ifd0-Copyright", "exif-ifd0-Artist")


def metadata_policy(image: pyvips.Image, options: Options) -> tuple[pyvips.Image, str]:
    """The image with only the metadata to keep, and libvips's `keep` flags for the saver."""
    keep: list[str] = []
    if not options.strip_color_profile:
        keep.append("icc")
    elif image.get_typeof("icc-profile-data"):
        image = image.copy()
        image.remove("icc-profile-data")
    if not options.strip_metadata:
        keep += ["exif", "xmp", "iptc", "other"]
    elif options.keep_copyright and any(image.get_typeof(f) for f in COPYRIGHT_FIELDS):
        # libvips rebuilds EXIF from the exif-* fields on save: drop all but the copyright.
        image = image.copy()
        for name in image.get_fields():
            if name.startswith("exif-ifd") and name not in COPYRIGHT_FIELDS:
                image.remove(name)
        keep.append("exif")
    return image, "|".join(keep) or "none"


def save(image: pyvips.Image, fmt: str, quality: int, keep: str) -> bytes:
    if fmt == "jpeg":
        return cast(bytes, image.jpegsave_buffer(Q=quality, keep=keep, optimize_coding=True))
    if fmt == "png":
        return cast(bytes, image.pngsave_buffer(keep=keep, compression=6))
    if fmt == "webp":
        return cast(bytes, image.webpsave_buffer(Q=quality, keep=keep, effort=4))
    if fmt == "avif":
        return cast(bytes, image.heifsave_buffer(Q=quality, keep=keep, compression="av1", effort=2))
    if fmt == "gif":
        return cast(bytes, image.gifsave_buffer(keep=keep))
    if fmt == "tiff":
        return cast(bytes, image.tiffsave_buffer(keep=keep, compression="deflate"))
    raise ValueError(f"no saver for {fmt}")


def encode(image: pyvips.Image, fmt: str, quality: int, options: Options) -> bytes:
    """Encode; with max_bytes, lower the quality as imgproxy does until the body fits."""
    image, keep = metadata_policy(image, options)
    if not options.max_bytes or fmt not in LOSSY:
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
