"""The processing options of a preview: a frozen, typed value with a canonical string form.

Defaults follow imgproxy's. `canonical()` lists every option that changes the rendered
bytes, in a fixed order and spelling, so equivalent URLs (`rs:fill:300` and
`resize:fill:300:0:0`) share one preview-cache entry. Options that only change headers
(filename, attachment, expiry) are left out of it. Settings that imgproxy reads as option
defaults (PREVIEWS_PRESERVE_HDR, PREVIEWS_MAX_RESULT_DIMENSION, ...) are fields here too,
filled from the settings before the URL is parsed, so a changed setting changes the key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from typing import Any

RESIZING_TYPES = ("fit", "fill", "fill-down", "force", "auto")
# imgproxy's gravity types; `sm` (smart) and `fp` (focus point) only where imgproxy allows them.
GRAVITY_TYPES = ("ce", "no", "so", "ea", "we", "noea", "nowe", "soea", "sowe", "sm", "fp")
# Watermarks also take `re` (replicate), and never `sm` or `fp`.
WATERMARK_POSITIONS = (*GRAVITY_TYPES[:9], "re")

# The defaults of the setting-backed fields; the catalog's defaults say the same.
DEFAULT_MAX_RESULT_DIMENSION = 8192
DEFAULT_MAX_ANIMATION_FRAMES = 100


@dataclass(frozen=True)
class Gravity:
    type: str = "ce"
    # Offsets: |v| >= 1 pixels (times the dpr), |v| < 1 a share of the outer size; for
    # `fp` the focus point (0-1).
    x: float = 0.0
    y: float = 0.0

    def __str__(self) -> str:
        return f"{self.type}:{self.x:g}:{self.y:g}"


@dataclass(frozen=True)
class Extend:
    enabled: bool = False
    gravity: Gravity = Gravity()

    def __str__(self) -> str:
        return f"{int(self.enabled)}:{self.gravity}"


@dataclass(frozen=True)
class Crop:
    width: float = 0.0  # >= 1: pixels; < 1: a share of the source; 0: the whole side
    height: float = 0.0
    gravity: Gravity | None = None  # None: the main gravity

    def __str__(self) -> str:
        return f"{self.width:g}:{self.height:g}:{self.gravity or '-'}"


@dataclass(frozen=True)
class Trim:
    threshold: float
    color: tuple[int, int, int] | None = None  # None: the top-left pixel's colour
    equal_hor: bool = False
    equal_ver: bool = False

    def __str__(self) -> str:
        color = bytes(self.color).hex() if self.color else "-"
        return f"{self.threshold:g}:{color}:{int(self.equal_hor)}:{int(self.equal_ver)}"


@dataclass(frozen=True)
class Watermark:
    opacity: float  # 0 < opacity <= 1 (0 is no watermark at all)
    position: Gravity = Gravity()  # type from WATERMARK_POSITIONS; offsets as for Gravity
    scale: float = 0.0  # > 0: a share of the image's size; 0: the watermark's own size

    def __str__(self) -> str:
        return f"{self.opacity:g}:{self.position}:{self.scale:g}"


@dataclass(frozen=True)
class Options:
    resizing_type: str = "fit"
    width: int = 0
    height: int = 0
    min_width: int = 0
    min_height: int = 0
    zoom_x: float = 1.0
    zoom_y: float = 1.0
    dpr: float = 1.0
    enlarge: bool = False
    extend: Extend = Extend()
    extend_aspect_ratio: Extend = Extend()
    gravity: Gravity = Gravity()
    crop: Crop | None = None
    trim: Trim | None = None
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, right, bottom, left
    rotate: int = 0
    auto_rotate: bool = True
    flip_horizontal: bool = False
    flip_vertical: bool = False
    background: tuple[int, int, int] | None = None
    blur: float = 0.0
    sharpen: float = 0.0
    pixelate: int = 0
    watermark: Watermark | None = None
    # What the configured watermark image is (a digest and the base opacity): set from the
    # settings, part of the canonical form only when a watermark is asked for.
    watermark_image: str = ""
    strip_metadata: bool = True
    keep_copyright: bool = True
    strip_color_profile: bool = True
    enforce_thumbnail: bool = False
    preserve_hdr: bool = False
    quality: int = 0  # 0: the configured default for the format
    format_quality: tuple[tuple[str, int], ...] = ()
    max_bytes: int = 0
    format: str | None = None
    skip_processing: tuple[str, ...] = ()
    max_result_dimension: int = DEFAULT_MAX_RESULT_DIMENSION
    max_animation_frames: int = DEFAULT_MAX_ANIMATION_FRAMES
    raw: bool = False
    cachebuster: str = ""
    # Limits a security option may set for one URL; None: the settings' value. They only
    # refuse sources, never change the bytes, so they stay out of the canonical form.
    max_src_resolution: float | None = None
    max_src_file_size: int | None = None
    max_animation_frame_resolution: float | None = None
    # Header-only options: not part of the canonical form.
    expires: int | None = None
    filename: str | None = None
    return_attachment: bool = False
    # Chained pipelines (`-/` in a URL), each run on the last one's result. Each holds its
    # own processing options and, copied from this one, the result's (MAIN_ONLY).
    pipelines: tuple[Options, ...] = ()

    def quality_for(self, fmt: str, defaults: Mapping[str, int], fallback: int) -> int:
        """imgproxy's order: quality option, format_quality option, then the settings.

        A 0 anywhere means "not set": the next source decides.
        """
        if self.quality:
            return self.quality
        for name, quality in self.format_quality:
            if name == fmt and quality:
                return quality
        return defaults.get(fmt) or fallback

    def canonical(self) -> str:
        skip = NOT_CANONICAL if self.watermark is not None else NOT_CANONICAL | {"watermark_image"}
        return canonical_form(self, _DEFAULT, skip)


HEADER_ONLY = frozenset({"expires", "filename", "return_attachment"})
LIMITS_ONLY = frozenset(
    {"max_src_resolution", "max_src_file_size", "max_animation_frame_resolution"}
)
# `format` is in the cache key on its own (as the chosen output format).
NOT_CANONICAL = HEADER_ONLY | LIMITS_ONLY | {"format"}


# imgproxy's options of the whole result (set on `o.Main()` in its parser): in a chained
# pipeline they still apply to the main one.
MAIN_ONLY = frozenset(
    {
        "strip_metadata", "keep_copyright", "strip_color_profile", "preserve_hdr",
        "enforce_thumbnail", "quality", "format_quality", "max_bytes", "format",
        "skip_processing", "raw", "cachebuster", "expires", "filename", "return_attachment",
        "max_animation_frames", "max_animation_frame_resolution", "max_result_dimension",
        "max_src_resolution", "max_src_file_size", "watermark_image",
    }
)  # fmt: skip


def canonical_form(options: Any, default: Any, skip: Collection[str]) -> str:
    """`name:value` of every field of a dataclass of options that is not its default, in
    field order: a cache key's part, the same for every spelling of the same options."""
    parts = [
        f"{f.name}:{_text(getattr(options, f.name))}"
        for f in fields(options)
        if f.name not in skip and getattr(options, f.name) != getattr(default, f.name)
    ]
    return "/".join(parts) or "-"


def _text(value: object) -> str:
    if isinstance(value, Options):
        return f"({value.canonical()})"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ":".join(_text(v) for v in value)
    return str(value)


_DEFAULT = Options()
