"""`convert`: an original in any image format -> a browser-viewable PNG, JPEG or WebP."""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from proxy.blob import Blob
from proxy.converter.encode import default_format, encode
from proxy.converter.loaders import load_heif, load_nrrd, load_pillow, load_svg, load_vips
from proxy.converter.normalize import viewable
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.jobs.protocol import Output
from proxy.limits import SourceLimits
from proxy.sniff import UNKNOWN, Detected

Loader = Callable[[Blob, SourceLimits], pyvips.Image | None]

# Formats no image loader should try: a video or an archive is never "an image libvips reads".
NOT_IMAGES = {
    "mp4", "mov", "matroska", "avi", "mpeg", "mpegts", "flv", "asf", "mp3", "ogg", "wav",
    "zip", "gzip", "html", "xml",
}  # fmt: skip
# Formats this converter claims: failing to load one of them means the file is corrupt.
KNOWN_IMAGES = {
    "tiff", "bmp", "heif", "nrrd", "mpo", "jpeg", "png", "gif", "webp", "avif", "ico", "svg",
}  # fmt: skip
LOSSY_SOURCES = {"jpeg", "mpo", "heif", "webp", "avif"}
_SPECIFIC: dict[str, tuple[Loader, ...]] = {
    "heif": (load_heif,),
    "svg": (load_svg,),
    "nrrd": (load_nrrd,),
    "bmp": (load_pillow, load_vips),
    "ico": (load_pillow, load_vips),
}
_GENERIC: tuple[Loader, ...] = (load_vips, load_pillow)


def convert_image(blob: Blob, detected: Detected, fmt: str | None, limits: SourceLimits) -> Output:
    """Runs in a render process: it decodes and encodes."""
    if detected.kind in NOT_IMAGES:
        raise UnsupportedMediaType(f"unsupported type {detected.mime}: not an image")
    image = _load(blob, detected, limits)
    try:
        image = viewable(image)
        fmt = fmt or default_format(image, lossy_source=detected.kind in LOSSY_SOURCES)
        return Output(encode(image, fmt), fmt)
    except pyvips.Error as exc:
        # libvips decodes lazily: a truncated or corrupt body shows up only now.
        raise Unprocessable(f"cannot decode {detected.kind} image: {_first_line(exc)}") from exc


def _load(blob: Blob, detected: Detected, limits: SourceLimits) -> pyvips.Image:
    for loader in _SPECIFIC.get(detected.kind, _GENERIC):
        image = loader(blob, limits)
        if image is not None:
            return image
    if detected.kind in KNOWN_IMAGES:
        raise Unprocessable(f"cannot decode {detected.mime}: corrupt or unsupported variant")
    if detected == UNKNOWN:
        # Its type is not known, so not named: "application/octet-stream" would claim one.
        raise UnsupportedMediaType("unsupported type: not an image format the converter reads")
    raise UnsupportedMediaType(f"unsupported type {detected.mime}")


def _first_line(exc: pyvips.Error) -> str:
    detail = (exc.detail or exc.message or "").strip().splitlines()
    return detail[0] if detail else "corrupt data"
