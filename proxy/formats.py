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
}
ALIASES = {"jpg": "jpeg", "tif": "tiff", **{name: name for name in CONTENT_TYPES}}
# The file name extension of each content type, as a download should be named.
EXTENSIONS = {ctype: {"jpeg": "jpg"}.get(name, name) for name, ctype in CONTENT_TYPES.items()}


def canonical(name: str) -> str | None:
    """The format a name or alias means (case-insensitive), or None if it is none of ours."""
    return ALIASES.get(name.lower())
