"""The processing pipeline: an ordered list of small steps, each a pure function of an image.

Like imgproxy's processing/pipeline.go. `PREPARE` runs on the image as loaded: colour
space, then trim (on the stored orientation, as imgproxy trims before rotating), then the
EXIF and requested rotation, then crop; then the sizes are planned from what it left;
then `PIPELINE` runs. Every step returns its input untouched when its option is not set.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import pyvips

from proxy.previews import writers
from proxy.previews.formats import SPECS
from proxy.previews.geometry import Plan, crop_size, make_plan, position, scale_to_even
from proxy.previews.options import Gravity, Options

WHITE = (255, 255, 255)
MAGENTA = (255, 0, 255)  # what trim flattens transparency onto (imgproxy's vips_trim)
# imgproxy's fixSize: the largest side each encoder takes.
FORMAT_MAX_SIDE = {
    "webp": 16383,
    "avif": 16384,
    "heic": writers.HEIC_MAX,  # imgproxy's libheif takes 16384; our x265 encoder less
    "gif": 65535,
    "ico": writers.ICO_MAX,
}
COLOUR = {"b-w": "srgb", "grey16": "rgb16"}  # a grey space's colour counterpart


@dataclass(frozen=True)
class Context:
    options: Options
    format: str  # the concrete output format
    plan: Plan | None = None  # set once PREPARE has run
    deep: bool = False  # keep 16 bits a channel (preserve_hdr and an HDR format)
    orient: bool = False  # the EXIF orientation is still to apply (full decodes)
    sequential: bool = False  # decoded top to bottom once (shrink-on-load): no random reads
    vector: bool = False  # the source is a vector: its plan may enlarge it

    @property
    def sizes(self) -> Plan:
        assert self.plan is not None
        return self.plan


Step = Callable[[pyvips.Image, Context], pyvips.Image]


# -- helpers -----------------------------------------------------------------------------


def is_deep(image: pyvips.Image) -> bool:
    return image.interpretation in ("rgb16", "grey16")


def is_grey(image: pyvips.Image) -> bool:
    return bool(image.bands - int(image.hasalpha()) == 1)


def _ink(image: pyvips.Image, color: tuple[int, int, int]) -> list[float]:
    """`color` as the image's pixels hold it (one value for grey; 0-65535 when deep)."""
    depth = 257 if is_deep(image) else 1
    values = color[:1] if is_grey(image) else color
    return [v * depth for v in values]


def _for_colour(image: pyvips.Image, color: tuple[int, int, int]) -> pyvips.Image:
    """A grey image becomes colour when a colour that is not grey goes onto it (imgproxy's
    vips_guard_colorspace)."""
    if is_grey(image) and len(set(color)) > 1:
        return image.colourspace(COLOUR.get(image.interpretation, "srgb"))
    return image


def _crop(
    image: pyvips.Image, width: int, height: int, gravity: Gravity, dpr: float = 1.0
) -> pyvips.Image:
    """Cut width x height (0 = the whole side) out of the image where `gravity` says."""
    width = min(width or image.width, image.width)
    height = min(height or image.height, image.height)
    if width == image.width and height == image.height:
        return image
    if gravity.type == "sm":
        # smartcrop reads the image several times: a sequential decode cannot serve that.
        return image.copy_memory().smartcrop(width, height, interesting="attention")
    left, top = position(image.width, image.height, width, height, gravity, dpr)
    return image.crop(left, top, width, height)


def _embed(
    image: pyvips.Image, width: int, height: int, left: int, top: int, ctx: Context
) -> pyvips.Image:
    """Place the image on a larger canvas: the background colour, else transparent.

    imgproxy embeds onto transparent black and flattens later; filling with the colour
    straight away gives the same pixels without the extra pass.
    """
    color = ctx.options.background
    if color is None:
        if not image.hasalpha():
            image = image.bandjoin(65535 if is_deep(image) else 255)
        return image.embed(left, top, width, height, extend="background", background=[0])
    image = _for_colour(image, color)
    fill = _ink(image, color)
    if image.hasalpha():
        fill.append(65535 if is_deep(image) else 255)
    return image.embed(left, top, width, height, extend="background", background=fill)


# -- PREPARE -----------------------------------------------------------------------------


def to_processing(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """8-bit sRGB or grey, or 16-bit when kept (imgproxy v4's guessTargetColorspace)."""
    space, fmt = image.interpretation, image.format
    if space in ("srgb", "rgb", "b-w") and fmt == "uchar":
        return image
    grey = is_grey(image)
    if ctx.deep and (space in ("rgb16", "grey16") or fmt != "uchar") and space != "cmyk":
        target = "grey16" if grey and space in ("b-w", "grey16") else "rgb16"
    else:
        target = "b-w" if grey and space in ("b-w", "grey16") else "srgb"
    if space != target:
        image = image.colourspace(target)
    wanted = "ushort" if target in ("rgb16", "grey16") else "uchar"
    return image if image.format == wanted else image.cast(wanted)


def trim(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """imgproxy's vips_trim: detect in 8-bit sRGB, transparency flattened onto magenta."""
    spec = ctx.options.trim
    if spec is None:
        return image
    probe = image
    if probe.interpretation != "srgb" or probe.format != "uchar":
        probe = probe.colourspace("srgb").cast("uchar")
    if probe.hasalpha():
        probe = probe.flatten(background=list(MAGENTA))
    background = list(spec.color) if spec.color else probe(0, 0)[:3]
    left, top, width, height = probe.find_trim(threshold=spec.threshold, background=background)
    if width == 0 or height == 0:
        return image  # all background: imgproxy leaves such images alone
    if spec.equal_hor:
        left = min(left, image.width - left - width)
        width = image.width - 2 * left
    if spec.equal_ver:
        top = min(top, image.height - top - height)
        height = image.height - 2 * top
    return image.crop(left, top, width, height)


def rotate_and_flip(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    options = ctx.options
    turns = options.rotate or options.flip_horizontal or options.flip_vertical
    if turns and ctx.sequential:
        # Rotating reads the rows out of order, which a sequential decode cannot serve.
        image = image.copy_memory()
    if ctx.orient and options.auto_rotate:
        image = image.autorot()
    if options.rotate:
        image = image.rot(f"d{options.rotate}")
    if options.flip_horizontal:
        image = image.fliphor()
    if options.flip_vertical:
        image = image.flipver()
    return image


def crop(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.crop
    if spec is None:
        return image
    width = crop_size(image.width, spec.width)
    height = crop_size(image.height, spec.height)
    return _crop(image, width, height, spec.gravity or ctx.options.gravity)


PREPARE: tuple[Step, ...] = (to_processing, trim, rotate_and_flip, crop)


# -- PIPELINE ----------------------------------------------------------------------------


def resize(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    plan = ctx.sizes
    if (image.width, image.height) == (plan.scaled_width, plan.scaled_height):
        return image  # shrunk on load already
    hscale = plan.scaled_width / image.width
    vscale = plan.scaled_height / image.height
    if not image.hasalpha():
        return image.resize(hscale, vscale=vscale, kernel="lanczos3")
    # Premultiplied, as imgproxy resizes: no dark fringes from transparent pixels.
    fmt = image.format
    scaled = image.premultiply().cast(fmt).resize(hscale, vscale=vscale, kernel="lanczos3")
    return scaled.unpremultiply().cast(fmt)


def crop_to_result(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    plan = ctx.sizes
    return _crop(image, plan.crop_width, plan.crop_height, ctx.options.gravity, plan.dpr_scale)


def filters(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """Blur, sharpen, pixelate as imgproxy's vips_apply_filters: in 8-bit sRGB, with alpha
    premultiplied; the sizes are not scaled by the dpr."""
    options = ctx.options
    blur, sharpen, pixelate = options.blur, options.sharpen, options.pixelate
    if blur <= 0 and sharpen <= 0 and pixelate <= 1:
        return image
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    premultiplied = (blur > 0 or sharpen > 0) and image.hasalpha()
    if premultiplied:
        image = image.premultiply().cast("uchar")
    if blur > 0:
        image = image.gaussblur(blur)
    if sharpen > 0:
        image = image.sharpen(sigma=sharpen)
    image = _pixelate(image, min(pixelate, max(image.width, image.height)))
    if premultiplied:
        image = image.unpremultiply()
    return image.colourspace("srgb").cast("uchar")


def _pixelate(image: pyvips.Image, size: int) -> pyvips.Image:
    """Blocks of the average colour (a box shrink), the edges mirrored to whole blocks."""
    if size <= 1:
        return image
    width, height = image.width, image.height
    whole_w = math.ceil(width / size) * size
    whole_h = math.ceil(height / size) * size
    if (whole_w, whole_h) != (width, height):
        image = image.embed(0, 0, whole_w, whole_h, extend="mirror")
    image = image.shrink(size, size).zoom(size, size)
    return (
        image.crop(0, 0, width, height) if image.width != width or image.height != height else image
    )


def _extend_to(
    image: pyvips.Image, width: int, height: int, gravity: Gravity, ctx: Context
) -> pyvips.Image:
    if width <= image.width and height <= image.height:
        return image
    width = width if width > 0 else image.width
    height = height if height > 0 else image.height
    left, top = position(width, height, image.width, image.height, gravity, ctx.sizes.dpr_scale)
    return _embed(image, max(width, image.width), max(height, image.height), left, top, ctx)


def extend(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.extend
    if not spec.enabled:
        return image
    plan = ctx.sizes
    return _extend_to(image, plan.target_width, plan.target_height, spec.gravity, ctx)


def extend_aspect_ratio(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.extend_aspect_ratio
    plan = ctx.sizes
    if not spec.enabled or not plan.extend_ar_width or not plan.extend_ar_height:
        return image
    return _extend_to(image, plan.extend_ar_width, plan.extend_ar_height, spec.gravity, ctx)


def padding(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    dpr = ctx.sizes.dpr_scale
    top, right, bottom, left = (scale_to_even(p, dpr) for p in ctx.options.padding)
    if not (top or right or bottom or left):
        return image
    width, height = image.width + left + right, image.height + top + bottom
    return _embed(image, width, height, left, top, ctx)


def fix_size(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """Down to the largest side the output format takes (imgproxy's fixSize)."""
    limit = FORMAT_MAX_SIDE.get(ctx.format)
    if limit is None or max(image.width, image.height) <= limit:
        return image
    factor = limit / max(image.width, image.height)
    return image.resize(factor, kernel="lanczos3")


def flatten(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """Alpha goes onto the background where the format has none or a background is asked."""
    if not image.hasalpha():
        return image
    color = ctx.options.background
    if color is None and SPECS[ctx.format].alpha:
        return image
    color = color or WHITE
    image = _for_colour(image, color)
    return image.flatten(background=_ink(image, color))


PIPELINE: tuple[Step, ...] = (
    resize,
    crop_to_result,
    filters,
    extend,
    extend_aspect_ratio,
    padding,
    fix_size,
    flatten,
)


def process(image: pyvips.Image, ctx: Context) -> tuple[pyvips.Image, Context]:
    """Run both stages; `ctx.plan`, when given, was made from the header before loading.

    Returns the context with the plan it ran with (the watermark reads its dpr scale).
    """
    for step in PREPARE:
        image = step(image, ctx)
    if ctx.plan is None:
        plan = make_plan(image.width, image.height, ctx.options, ctx.vector)
        ctx = replace(ctx, plan=plan)
    for step in PIPELINE:
        image = step(image, ctx)
    return image, ctx
