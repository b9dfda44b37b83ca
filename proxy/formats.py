"""The image formats the proxy writes: their names, the aliases URLs use, content types.

One table for previews, the converter and the settings, so `jpg`, `ext:jpg` and
`PREVIEWS_FORMAT_QUALITY=jpg=70` all mean the same format everywhere.
"""

from __future__ import annotations

CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "ico": "image/x-icon",
    "heic": "image/heif",  # the type imgproxy answers HEIC with
    "jxl": "image/jxl",
    "svg": "image/svg+xml",
}
ALIASES = {"jpg": "jpeg", "tif": "tiff", **{name: name for name in CONTENT_TYPES}}
# The file name extension of each content type, as a download should be named.
EXTENSIONS = {ctype: {"jpeg": "jpg"}.get(name, name) for name, ctype in CONTENT_TYPES.items()}
# imgproxy's format names exactly as its URLs spell them (case-sensitive, no `tif`).
URL_NAMES = {"jpg": "jpeg", **{name: name for name in CONTENT_TYPES}}


def canonical(name: str) -> str | None:
    """The format a name or alias means (case-insensitive), or None if it is none of ours."""
    return ALIASES.get(name.lower())


def url_format(name: str) -> str | None:
    """The format an imgproxy URL names (`f:`, `@ext`, `skp:`, `fq:`), or None."""
    return URL_NAMES.get(name)
