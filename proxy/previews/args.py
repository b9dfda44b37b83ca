"""What the server sends a render process with a preview job.

Apart from `job.py` and `render.py`, which hold the work itself, so that a server process
builds and pickles them without loading libvips, numpy or Pillow: only render processes do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from proxy.limits import SourceLimits
from proxy.previews.options import Options


@dataclass(frozen=True)
class BestFormat:
    complexity_threshold: float = 5.5  # PREVIEWS_BEST_FORMAT_COMPLEXITY_THRESHOLD
    max_pixels: int = 0  # PREVIEWS_BEST_FORMAT_MAX_RESOLUTION, in pixels (0: no limit)
    allow_skips: bool = False  # PREVIEWS_BEST_FORMAT_ALLOW_SKIPS


@dataclass(frozen=True)
class RenderSettings:
    limits: SourceLimits
    quality: int  # PREVIEWS_QUALITY
    format_quality: Mapping[str, int]  # PREVIEWS_FORMAT_QUALITY
    watermark: bytes | None = None  # PREVIEWS_WATERMARK_PATH's image, read once at start
    watermark_opacity: float = 1.0  # PREVIEWS_WATERMARK_OPACITY
    max_svg_size: int = 10 << 20  # PREVIEWS_MAX_SVG_FILE_SIZE
    best: BestFormat = field(default_factory=BestFormat)  # PREVIEWS_BEST_FORMAT_*


@dataclass(frozen=True)
class PreviewArgs:
    options: Options
    format: str  # the requested output format, or AUTO
    settings: RenderSettings
