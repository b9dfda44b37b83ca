"""One render: source image + options -> encoded preview. Runs in the render pool.

Synchronous and self-contained (no event loop, no cache): the caller hands it the source
and gets bytes back, or a ProxyError with a short reason. Every limit is checked from the
header before a pixel is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyvips

from proxy.blob import Blob
from proxy.errors import PayloadTooLarge, ProxyError, Unprocessable
from proxy.limits import SourceLimits
from proxy.previews import decode, watermark
from proxy.previews.args import RenderSettings
from proxy.previews.best import candidates, encode_best
from proxy.previews.encode import check_savable, encode
from proxy.previews.formats import ANIMATED_SOURCES, SPECS, allowed_by, is_auto, is_best, resolve
from proxy.previews.geometry import make_plan
from proxy.previews.options import Options
from proxy.previews.steps import Context, process, to_processing
from proxy.sniff import sniff

AVIF_MIN_SIDE = 16  # smaller AVIFs are written as PNG or JPEG, as imgproxy does
DEFAULT_DELAY = 40  # ms a frame when the source gives none (imgproxy's)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    format: str | None  # None: a source passed through whose format is unknown


def render(source: Blob, options: Options, requested: str, settings: RenderSettings) -> Rendered:
    """`requested`: a format, or `auto` / `auto:<formats Accept allows>` (formats.choose)."""
    try:
        return _render(source, options, requested, settings)
    except ProxyError:
        raise
    except pyvips.Error:
        # Raised while decoding pixels, after a valid header: truncated or corrupt data.
        raise Unprocessable("source image is truncated or corrupt") from None


def _limits(limits: SourceLimits, options: Options) -> SourceLimits:
    """The settings' limits, with what a URL's security options set (where allowed)."""
    if options.max_src_resolution is not None:
        limits = replace(limits, max_pixels=int(options.max_src_resolution * 1_000_000))
    if options.max_animation_frame_resolution is not None:
        frame = int(options.max_animation_frame_resolution * 1_000_000)
        limits = replace(limits, max_frame_pixels=frame)
    return limits


def _skips(header: decode.Header, explicit: str | None, options: Options) -> bool:
    """imgproxy's shouldSkipStandardProcessing: an SVG stays SVG unless another format is
    asked for; skip_processing formats pass through when no other format is asked for."""
    if header.svg is not None:
        return explicit in (None, "svg")
    return header.format in options.skip_processing and explicit in (None, header.format)


def _render(source: Blob, options: Options, requested: str, settings: RenderSettings) -> Rendered:
    if options.raw:
        body = source.read()
        return Rendered(body, sniff(body).format)
    if options.max_src_file_size is not None and source.size > options.max_src_file_size:
        raise PayloadTooLarge(f"source file of {source.size} bytes is over the URL's limit")
    limits = _limits(settings.limits, options)
    header = decode.read_header(
        source,
        options.auto_rotate,
        limits.max_pixels,
        settings.max_svg_size,
        options.enforce_thumbnail,
    )
    best = is_best(requested)
    explicit = None if is_auto(requested) or best else requested
    if (not best or settings.best.allow_skips) and _skips(header, explicit, options):
        if header.svg is not None:
            return Rendered(header.svg, "svg")
        limits.check_pixels(header.width, header.height)
        return Rendered(source.read(), header.format)

    animated = (
        header.animated and header.format in ANIMATED_SOURCES and options.max_animation_frames > 1
    )
    transparent = options.background is None and (
        header.has_alpha or any(options.padding) or options.extend.enabled
    )
    if best:
        # Processed for a format that keeps what the candidates may keep (alpha, frames);
        # the encodings are tried once the pixels are known.
        animated_out = "webp" if "webp" in allowed_by(requested) else "gif"
        fmt = animated_out if animated else "png" if transparent else "jpeg"
    else:
        fmt = resolve(requested, header.format, transparent, animated)
    check_savable(fmt)
    animated = animated and SPECS[fmt].animation_save
    frames = min(header.pages, options.max_animation_frames) if animated else 1
    if header.svg is None:
        limits.check_pixels(header.width, header.height, frames)
    if animated and options.trim is not None:
        options = replace(options, trim=None)  # imgproxy does not trim animations
    deep = options.preserve_hdr and SPECS[fmt].hdr and header.deep
    ctx = Context(options, fmt, deep=deep, vector=header.svg is not None)
    image, ctx = _load(source, header, ctx, frames, limits)

    if animated and options.pipelines:
        # Every pipeline works on the last one's frames: each frame goes through them all.
        pages = [_chain(page, ctx, settings, 1)[0] for page in decode.frames(image)]
        result = _join(pages, image)
    elif animated:
        results = [process(page, ctx) for page in decode.frames(image)]
        result = _join([page for page, _ in results], image)
        result = _watermark(result, results[0][1], options, settings, frames)
    else:
        result, ctx = _chain(image, ctx, settings, 1)
        frames = 1
    if best:
        allowed = allowed_by(requested)
        # Measured, then encoded once per candidate: decoded once, into memory.
        result = result.copy_memory()
        found = candidates(result, allowed, animated, settings.best)
        qualities = {
            c.format: options.quality_for(c.format, settings.format_quality, settings.quality)
            for c in found
        }
        body, chosen = encode_best(result, found, options, qualities)
        return Rendered(body, chosen)
    if fmt == "avif" and min(result.width, result.height // frames) < AVIF_MIN_SIDE:
        fmt = "png" if result.hasalpha() else "jpeg"
    quality = options.quality_for(fmt, settings.format_quality, settings.quality)
    return Rendered(encode(result, fmt, quality, options), fmt)


def _chain(
    image: pyvips.Image, ctx: Context, settings: RenderSettings, frames: int
) -> tuple[pyvips.Image, Context]:
    """The pipeline, then each chained pipeline (`-/`) on the last one's result."""
    result, ctx = process(image, ctx)
    result = _watermark(result, ctx, ctx.options, settings, frames)
    first = ctx
    for options in ctx.options.pipelines:
        # The last pipeline's result in memory: a decode that runs top to bottom once cannot
        # serve this one's steps that read it twice (trim, smart crop, rotation). It is
        # a result, so it is bounded by PREVIEWS_MAX_RESULT_DIMENSION.
        result = result.copy_memory()
        # A fresh context: what the first pipeline planned from the header is not this one's.
        stage = Context(options, ctx.format, deep=ctx.deep)
        result, stage = process(result, stage)
        result = _watermark(result, stage, options, settings, frames)
    return result, first


def _watermark(
    image: pyvips.Image, ctx: Context, options: Options, settings: RenderSettings, frames: int
) -> pyvips.Image:
    if options.watermark is None or settings.watermark is None:
        return image
    mark = _watermark_image(settings.watermark, options)
    dpr = ctx.sizes.dpr_scale
    return watermark.apply(image, mark, options.watermark, settings.watermark_opacity, dpr, frames)


def _load(
    source: Blob, header: decode.Header, ctx: Context, frames: int, limits: SourceLimits
) -> tuple[pyvips.Image, Context]:
    """The decoded image, shrunk on load where the plan can be made from the header."""
    options = ctx.options
    keep_profile = not options.strip_color_profile and SPECS[ctx.format].colour_profile
    use_thumbnail = options.enforce_thumbnail and header.format in decode.THUMBNAIL_SOURCES
    # libvips's thumbnail always gives 8 bits: 16-bit output decodes whole, then resizes.
    shrink = header.shrinks_on_load and not ctx.deep and not use_thumbnail
    if not shrink or options.trim is not None or options.crop is not None:
        image = decode.full(source, header, frames, keep_profile, ctx.deep, use_thumbnail)
        return image, replace(ctx, orient=header.format in decode.VIPS_SOURCES)
    width, height = header.width, header.height
    if options.rotate in (90, 270):
        width, height = height, width
    plan = make_plan(width, height, options, ctx.vector)
    if ctx.vector:
        # Rasterised at the target scale: that canvas is what the limit bounds.
        limits.check_pixels(plan.scaled_width, plan.scaled_height)
    image = decode.thumbnail(
        source, header, plan, options.rotate, options.auto_rotate, frames, keep_profile
    )
    return image, replace(ctx, plan=plan, sequential=True)


def _watermark_image(data: bytes, options: Options) -> pyvips.Image:
    mark = decode.to_srgb(pyvips.Image.new_from_buffer(data, "", fail_on="error"))
    deep = options.preserve_hdr and mark.format == "ushort"
    return to_processing(mark, Context(options, "png", deep=deep))


def _join(pages: list[pyvips.Image], source: pyvips.Image) -> pyvips.Image:
    joined = pyvips.Image.arrayjoin(pages, across=1).copy()
    joined.set_type(pyvips.GValue.gint_type, "page-height", pages[0].height)
    joined.set_type(pyvips.GValue.gint_type, "n-pages", len(pages))
    delays = list(source.get("delay")) if source.get_typeof("delay") else []
    delays = (delays or [DEFAULT_DELAY] * len(pages))[: len(pages)]
    joined.set_type(pyvips.GValue.array_int_type, "delay", delays)
    loop = source.get("loop") if source.get_typeof("loop") else 0
    joined.set_type(pyvips.GValue.gint_type, "loop", loop)
    return joined
