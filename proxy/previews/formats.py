"""Output formats: their content types, and which one a request gets.

The choice is made before the cache lookup, so it is part of the cache key. When neither
the URL nor the Accept header decides, the key says `auto` and the renderer picks from the
source (whose identity is in the key too, so the pick is the same every time).
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"

ALPHA_FORMATS = frozenset({"png", "webp", "avif", "gif", "tiff"})
# Source formats a preview keeps when the request names none.
KEPT_SOURCE_FORMATS = frozenset({"jpeg", "png", "gif"})

# libvips loader name prefix -> our format name.
_LOADERS = {
    "jpeg": "jpeg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "tiff": "tiff",
    "heif": "heif",
    "svg": "svg",
    "pdf": "pdf",
}


@dataclass(frozen=True)
class Choice:
    format: str  # a key of CONTENT_TYPES, or AUTO
    vary_accept: bool  # the answer depends on the Accept header


def choose(explicit: str | None, accept: str, auto_webp: bool, auto_avif: bool) -> Choice:
    if explicit:
        return Choice(explicit, False)
    negotiates = auto_webp or auto_avif
    accepted = accept.lower()
    if auto_avif and "image/avif" in accepted:
        return Choice("avif", True)
    if auto_webp and "image/webp" in accepted:
        return Choice("webp", True)
    return Choice(AUTO, negotiates)


def source_format(loader: str) -> str:
    """Our name for the format a libvips loader (e.g. `jpegload_buffer`) reads."""
    for prefix, name in _LOADERS.items():
        if loader.startswith(prefix):
            return name
    return loader.removesuffix("_buffer").removesuffix("_source").removesuffix("load")


def resolve(requested: str, source: str, has_alpha: bool) -> str:
    """The concrete output format for a render."""
    if requested != AUTO:
        return requested
    if source in KEPT_SOURCE_FORMATS:
        return source
    return "png" if has_alpha else "jpeg"
