"""The processing pipeline: an ordered list of small steps, each a pure function of an image.

Like imgproxy's processing/pipeline.go. `PREPARE` runs on the loaded (already upright,
sRGB) image; then the sizes are planned from what it left; then `PIPELINE` runs. Every step
returns its input untouched when its option is not set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from proxy.previews.formats import ALPHA_FORMATS
from proxy.previews.geometry import (
    Plan,
    crop_size,
    extend_aspect_target,
    fill_down_result,
    make_plan,
    position,
    scale,
)
from proxy.previews.options import Gravity, Options

WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Context:
    options: Options
    format: str  # the concrete output format
    plan: Plan | None = None  # set once PREPARE has run

    @property
    def sizes(self) -> Plan:
        assert self.plan is not None
        return self.plan


Step = Callable[[pyvips.Image, Context], pyvips.Image]


# -- helpers -----------------------------------------------------------------------------


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
    """Place the image on a larger canvas: the background colour, else transparent."""
    color = ctx.options.background
    if color is None:
        if not image.hasalpha():
            image = image.bandjoin(255)
        return image.embed(left, top, width, height, extend="background", background=[0])
    fill = list(color[: 1 if image.bands <= 2 else 3])
    if image.hasalpha():
        fill.append(255)
    return image.embed(left, top, width, height, extend="background", background=fill)


# -- PREPARE -----------------------------------------------------------------------------


def to_processing(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """8-bit sRGB (or grey), whatever depth and space the source had: what encoders take."""
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        target = "b-w" if image.bands - int(image.hasalpha()) == 1 else "srgb"
        image = image.colourspace(target)
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def rotate_and_flip(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    options = ctx.options
    if options.rotate:
        image = image.rot(f"d{options.rotate}")
    if options.flip_horizontal:
        image = image.fliphor()
    if options.flip_vertical:
        image = image.flipver()
    return image


def trim(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.trim
    if spec is None:
        return image
    flat = image.flatten(background=list(WHITE)) if image.hasalpha() else image
    background = list(spec.color) if spec.color else flat(0, 0)[: flat.bands]
    if flat.bands < 3 and spec.color:
        background = background[:1]
    left, top, width, height = flat.find_trim(threshold=spec.threshold, background=background)
    if width == 0 or height == 0:
        return image  # all background: imgproxy leaves such images alone
    if spec.equal_hor:
        right = image.width - left - width
        left = min(left, right)
        width = image.width - 2 * left
    if spec.equal_ver:
        bottom = image.height - top - height
        top = min(top, bottom)
        height = image.height - 2 * top
    return image.crop(left, top, width, height)


def crop(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.crop
    if spec is None:
        return image
    width = crop_size(image.width, spec.width)
    height = crop_size(image.height, spec.height)
    return _crop(image, width, height, spec.gravity or ctx.options.gravity)


PREPARE: tuple[Step, ...] = (to_processing, rotate_and_flip, trim, crop)


# -- PIPELINE ----------------------------------------------------------------------------


def resize(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    plan = ctx.sizes
    if (image.width, image.height) == (plan.scaled_width, plan.scaled_height):
        return image  # shrunk on load already
    hscale = plan.scaled_width / image.width
    vscale = plan.scaled_height / image.height
    return image.resize(hscale, vscale=vscale, kernel="lanczos3")


def crop_to_result(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    plan = ctx.sizes
    width, height = plan.result_width, plan.result_height
    if ctx.options.resizing_type == "fill-down" and not ctx.options.enlarge:
        width, height = fill_down_result(plan, image.width, image.height)
    return _crop(image, width, height, ctx.options.gravity, plan.dpr_scale)


def blur(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    sigma = ctx.options.blur
    return image.gaussblur(sigma * ctx.sizes.dpr_scale) if sigma > 0 else image


def sharpen(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    sigma = ctx.options.sharpen
    if sigma <= 0:
        return image
    # sharpen works in LabS; come back to the image's own space and depth.
    space = image.interpretation
    return image.sharpen(sigma=sigma * ctx.sizes.dpr_scale).colourspace(space)


def pixelate(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    size = scale(ctx.options.pixelate, ctx.sizes.dpr_scale)
    if size <= 1:
        return image
    width, height = image.width, image.height
    small = image.resize(1 / size, kernel="nearest")
    return small.zoom(size, size).embed(0, 0, width, height, extend="copy")


def _extend_to(
    image: pyvips.Image, width: int, height: int, gravity: Gravity, ctx: Context
) -> pyvips.Image:
    width = width or image.width
    height = height or image.height
    if width <= image.width and height <= image.height:
        return image
    width, height = max(width, image.width), max(height, image.height)
    left, top = position(width, height, image.width, image.height, gravity, ctx.sizes.dpr_scale)
    return _embed(image, width, height, left, top, ctx)


def extend(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.extend
    if not spec.enabled:
        return image
    plan = ctx.sizes
    return _extend_to(image, plan.result_width, plan.result_height, spec.gravity, ctx)


def extend_aspect_ratio(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    spec = ctx.options.extend_aspect_ratio
    if not spec.enabled:
        return image
    target = extend_aspect_target(image.width, image.height, ctx.sizes)
    if target is None:
        return image
    return _extend_to(image, target[0], target[1], spec.gravity, ctx)


def padding(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    top, right, bottom, left = (scale(p, ctx.sizes.dpr_scale) for p in ctx.options.padding)
    if not (top or right or bottom or left):
        return image
    width, height = image.width + left + right, image.height + top + bottom
    return _embed(image, width, height, left, top, ctx)


def flatten(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """Alpha goes onto the background where the format has none or a background is asked."""
    if not image.hasalpha():
        return image
    color = ctx.options.background
    if color is None and ctx.format in ALPHA_FORMATS:
        return image
    color = color or WHITE
    return image.flatten(background=list(color[: 1 if image.bands <= 2 else 3]))


PIPELINE: tuple[Step, ...] = (
    resize,
    crop_to_result,
    blur,
    sharpen,
    pixelate,
    extend,
    extend_aspect_ratio,
    padding,
    flatten,
)


def process(image: pyvips.Image, ctx: Context) -> pyvips.Image:
    """Run both stages; `ctx.plan`, when given, was made from the header before loading."""
    for step in PREPARE:
        image = step(image, ctx)
    if ctx.plan is None:
        ctx = Context(ctx.options, ctx.format, make_plan(image.width, image.height, ctx.options))
    for step in PIPELINE:
        image = step(image, ctx)
    return image
