"""One render: source image + options -> encoded preview. Runs in the render pool's threads.

Synchronous and self-contained (no event loop, no cache): the caller hands it the source
and gets bytes back, or a ProxyError with a short reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyvips

from proxy.blob import Blob
from proxy.errors import ProxyError, Unprocessable
from proxy.limits import SourceLimits
from proxy.previews import decode
from proxy.previews.encode import encode
from proxy.previews.formats import resolve
from proxy.previews.geometry import make_plan
from proxy.previews.options import Options
from proxy.previews.steps import Context, process
from proxy.sniff import sniff


@dataclass(frozen=True)
class RenderSettings:
    limits: SourceLimits
    max_result_dimension: int
    quality: int  # PREVIEWS_QUALITY
    format_quality: Mapping[str, int]  # PREVIEWS_FORMAT_QUALITY


@dataclass(frozen=True)
class Rendered:
    body: bytes
    format: str | None  # None: a source passed through whose format is unknown


def render(source: Blob, options: Options, requested: str, limits: RenderSettings) -> Rendered:
    try:
        return _render(source, options, requested, limits)
    except ProxyError:
        raise
    except pyvips.Error:
        # Raised while decoding pixels, after a valid header: truncated or corrupt data.
        raise Unprocessable("source image is truncated or corrupt") from None


def _render(source: Blob, options: Options, requested: str, limits: RenderSettings) -> Rendered:
    if options.raw:
        body = source.read()
        return Rendered(body, sniff(body).format)
    header = decode.read_header(source, limits.limits, options.auto_rotate)
    if header.format in options.skip_processing:
        return Rendered(source.read(), header.format)
    fmt = resolve(requested, header.format, header.has_alpha)
    animated = fmt == "gif" and header.pages > 1 and header.format in decode.ANIMATED_SOURCES

    if options.trim is None and options.crop is None:
        width, height = header.width, header.height
        if options.rotate in (90, 270):
            width, height = height, width
        plan = make_plan(width, height, options)
        _check_result(plan.scaled_width, plan.scaled_height, limits)
        image = decode.thumbnail(source, plan, options.rotate, options.auto_rotate, animated)
        ctx = Context(options, fmt, plan)
    else:
        image = decode.full(source, options.auto_rotate, animated)
        ctx = Context(options, fmt)

    pages = [process(page, ctx) for page in decode.frames(image)] if animated else []
    result = _join(pages, image) if animated else process(image, ctx)
    _check_result(result.width, pages[0].height if pages else result.height, limits)
    quality = options.quality_for(fmt, limits.format_quality, limits.quality)
    return Rendered(encode(result, fmt, quality, options), fmt)


def _join(pages: list[pyvips.Image], source: pyvips.Image) -> pyvips.Image:
    joined = pyvips.Image.arrayjoin(pages, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", pages[0].height)
    for name in ("delay", "loop", "gif-delay"):
        if source.get_typeof(name):
            joined.set_type(source.get_typeof(name), name, source.get(name))
    return joined


def _check_result(width: int, height: int, limits: RenderSettings) -> None:
    if max(width, height) > limits.max_result_dimension:
        raise Unprocessable(
            f"result would be {width}x{height}, over {limits.max_result_dimension} pixels a side"
        )
