"""The preview settings turned into what parsing and rendering use, and checked at start.

imgproxy refuses to start with a bad preset or watermark; `check` finds those problems,
one line each naming the variable, so the start stops instead of every request failing.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from proxy.limits import SourceLimits
from proxy.previews.args import BestFormat, RenderSettings
from proxy.previews.formats import allowed_by, is_auto, is_best
from proxy.previews.options import Options
from proxy.previews.parse import Rules, check_presets
from proxy.settings import PreviewSettings
from proxy.sniff import HEAD_SIZE, sniff

WATERMARK_MAX_BYTES = 64 << 20  # read into every render's settings: keep it sane


def _read_watermark(settings: PreviewSettings) -> bytes | None:
    path = settings.watermark_path
    return path.read_bytes() if path is not None else None


@lru_cache(maxsize=8)
def _watermark_problem(data: bytes, max_pixels: int) -> str:
    # Here, not at the top: a server process builds its settings from this module and
    # never decodes, so it does not load libvips (the check runs in a process of its own).
    import pyvips

    from proxy.previews.decode import VIPS_SOURCES

    fmt = sniff(data[:HEAD_SIZE]).format
    if fmt not in VIPS_SOURCES:
        return f"not an image libvips reads here ({sniff(data[:HEAD_SIZE]).mime})"
    try:
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error")
        if image.width * image.height > max_pixels:
            return f"{image.width}x{image.height} is over PREVIEWS_MAX_SRC_RESOLUTION"
        image.avg()  # every pixel decodes
    except pyvips.Error as exc:
        return f"cannot be decoded ({(exc.message or '').strip()})"
    return ""


def check(settings: PreviewSettings) -> list[str]:
    """Problems with the preview settings, one line each, naming the variable."""
    presets = Rules(settings.presets, Options(), settings.allow_security_options)
    problems = [f"PREVIEWS_PRESETS: {line}" for line in check_presets(presets)]
    path = settings.watermark_path
    if path is not None:
        try:
            size = path.stat().st_size
            if size > WATERMARK_MAX_BYTES:
                problem = f"{size} bytes is over {WATERMARK_MAX_BYTES}"
            else:
                max_pixels = int(settings.max_src_resolution * 1_000_000)
                problem = _watermark_problem(path.read_bytes(), max_pixels)
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror})"
        if problem:
            problems.append(f"PREVIEWS_WATERMARK_PATH={str(path)!r}: {problem}")
    return problems


def _watermark_identity(settings: PreviewSettings) -> str:
    """What changes a watermarked preview: the image's digest and the base opacity."""
    data = _read_watermark(settings)
    if data is None:
        return ""
    return f"{hashlib.sha256(data).hexdigest()[:16]}@{settings.watermark_opacity:g}"


def defaults(settings: PreviewSettings) -> Options:
    """The options every URL starts from: imgproxy's, with what the settings set."""
    return Options(
        preserve_hdr=settings.preserve_hdr,
        skip_processing=settings.skip_processing_formats,
        max_result_dimension=settings.max_result_dimension,
        max_animation_frames=settings.max_animation_frames,
        watermark_image=_watermark_identity(settings),
    )


def rules(settings: PreviewSettings) -> Rules:
    return Rules(settings.presets, defaults(settings), settings.allow_security_options)


def render_settings(settings: PreviewSettings, limits: SourceLimits) -> RenderSettings:
    frame_pixels = int(settings.max_animation_frame_resolution * 1_000_000)
    return RenderSettings(
        limits=SourceLimits(limits.max_pixels, limits.max_file_size, frame_pixels),
        quality=settings.quality,
        format_quality=settings.format_quality,
        watermark=_read_watermark(settings),
        watermark_opacity=settings.watermark_opacity,
        max_svg_size=settings.max_svg_file_size,
        best=BestFormat(
            settings.best_format_complexity_threshold,
            int(settings.best_format_max_resolution * 1_000_000),
            settings.best_format_allow_skips,
        ),
    )


def default_quality(requested: str, settings: PreviewSettings) -> str:
    """The configured qualities a render for `requested` may use, for the cache key.

    An explicit format uses its own; `auto` ends as JPEG, PNG or GIF (only JPEG has a
    quality) or as one of the formats Accept allows. An AVIF under 16 px is written as
    JPEG (or PNG), so JPEG's quality counts for it too.
    """
    if is_best(requested):
        formats: tuple[str, ...] = ("jpeg", "png", *allowed_by(requested))
    elif is_auto(requested):
        formats = ("jpeg", *allowed_by(requested))
    else:
        formats = (requested,)
    if "avif" in formats and "jpeg" not in formats:
        formats = (*formats, "jpeg")
    qualities = (settings.format_quality.get(f, settings.quality) for f in formats)
    return ",".join(str(q) for q in qualities)


def best_tuning(requested: str, settings: PreviewSettings) -> str:
    """The PREVIEWS_BEST_FORMAT_* values a `best` render chooses by, for the cache key
    ("" for any other): changing them makes new previews."""
    if not is_best(requested):
        return ""
    threshold, pixels = (
        settings.best_format_complexity_threshold,
        settings.best_format_max_resolution,
    )
    return f"best{threshold:g}:{pixels:g}:{int(settings.best_format_allow_skips)}"
