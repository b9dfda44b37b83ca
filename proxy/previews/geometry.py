"""Sizes and positions, computed the way imgproxy computes them (processing/prepare.go).

Pure arithmetic, no images: the pipeline steps and the shrink-on-load both read the `Plan`.
Go's rounding is kept where imgproxy uses it: `math.Round` (halves away from zero) for
sizes, `math.RoundToEven` for paddings and positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from proxy.previews.options import Gravity, Options


def scale(value: int, factor: float) -> int:
    """imgproxy's imath.Scale: 0 stays 0 (meaning "not set"), halves round away from 0."""
    if value == 0:
        return 0
    return math.floor(value * factor + 0.5)


def scale_to_even(value: int, factor: float) -> int:
    """imgproxy's imath.ScaleToEven: as `scale`, but halves round to even."""
    return round(value * factor) if value else 0


def min_non_zero(a: int, b: int) -> int:
    return b if a == 0 else a if b == 0 else min(a, b)


def crop_size(side: int, crop: float) -> int:
    if crop == 0:
        return 0
    if crop >= 1:
        return int(crop)
    return max(1, scale(side, crop))


@dataclass(frozen=True)
class Plan:
    wscale: float
    hscale: float
    dpr_scale: float
    target_width: int  # the requested size times dpr and zoom; 0 = that side is free
    target_height: int
    scaled_width: int  # the image after the scale step
    scaled_height: int
    crop_width: int  # the crop to the result (fill, fill-down); 0 = that side is free
    crop_height: int
    extend_ar_width: int  # the canvas extend_aspect_ratio grows to; 0 = nothing to do
    extend_ar_height: int


def _resizing_type(options: Options, src_w: float, src_h: float, dst_w: float, dst_h: float) -> str:
    if options.resizing_type != "auto":
        return options.resizing_type
    # auto: fill when source and result share an orientation, else fit.
    same = (src_w - src_h >= 0) == (dst_w - dst_h >= 0)
    return "fill" if same else "fit"


def calc_scale(
    width: int, height: int, options: Options, vector: bool = False
) -> tuple[float, float, float]:
    """(width scale, height scale, dpr scale) for a source of width x height."""
    src_w, src_h = float(width), float(height)
    dst_w = float(options.width) or src_w
    dst_h = float(options.height) or src_h
    wshrink = 1.0 if dst_w == src_w else src_w / dst_w
    hshrink = 1.0 if dst_h == src_h else src_h / dst_h

    if wshrink != 1 or hshrink != 1:
        kind = _resizing_type(options, src_w, src_h, dst_w, dst_h)
        if options.width == 0 and kind != "force":
            wshrink = hshrink
        elif options.height == 0 and kind != "force":
            hshrink = wshrink
        elif kind == "fit":
            wshrink = hshrink = max(wshrink, hshrink)
        elif kind in ("fill", "fill-down"):
            wshrink = hshrink = min(wshrink, hshrink)

    wshrink /= options.zoom_x
    hshrink /= options.zoom_y
    dpr_scale = options.dpr

    if not options.enlarge and not vector:  # a vector renders sharp at any size
        min_shrink = min(wshrink, hshrink)
        if min_shrink < 1:
            wshrink /= min_shrink
            hshrink /= min_shrink
            if not options.extend.enabled:
                dpr_scale /= min_shrink
        dpr_scale = min(dpr_scale, wshrink, hshrink)

    if options.min_width > 0:
        needed = src_w / options.min_width
        if needed < wshrink:
            hshrink /= wshrink / needed
            wshrink = needed
    if options.min_height > 0:
        needed = src_h / options.min_height
        if needed < hshrink:
            wshrink /= hshrink / needed
            hshrink = needed

    wshrink /= dpr_scale
    hshrink /= dpr_scale
    wshrink = min(wshrink, src_w)
    hshrink = min(hshrink, src_h)
    return 1.0 / wshrink, 1.0 / hshrink, dpr_scale


def _sizes(
    width: int, height: int, options: Options, wscale: float, hscale: float, dpr_scale: float
) -> Plan:
    """imgproxy's calcSizes."""
    target_w = scale(options.width, dpr_scale * options.zoom_x)
    target_h = scale(options.height, dpr_scale * options.zoom_y)
    scaled_w, scaled_h = scale(width, wscale), scale(height, hscale)
    crop_w, crop_h = target_w, target_h
    if options.resizing_type == "fill-down" and not options.enlarge:
        # Keep the requested aspect ratio within what there is.
        diff_w, diff_h = target_w / scaled_w, target_h / scaled_h
        if diff_w > diff_h and diff_w > 1:
            crop_w, crop_h = scaled_w, scale(scaled_w, target_h / target_w)
        elif diff_h > diff_w and diff_h > 1:
            crop_w, crop_h = scale(scaled_h, target_w / target_h), scaled_h
    ar_w = ar_h = 0
    if options.extend_aspect_ratio.enabled and target_w > 0 and target_h > 0:
        out_w, out_h = min_non_zero(scaled_w, crop_w), min_non_zero(scaled_h, crop_h)
        diff_w, diff_h = target_w / out_w, target_h / out_h
        if diff_h > diff_w:
            ar_w, ar_h = out_w, scale(out_w, target_h / target_w)
        elif diff_w > diff_h:
            ar_w, ar_h = scale(out_h, target_w / target_h), out_h
    return Plan(
        wscale,
        hscale,
        dpr_scale,
        target_w,
        target_h,
        scaled_w,
        scaled_h,
        crop_w,
        crop_h,
        ar_w,
        ar_h,
    )


def output_size(plan: Plan, options: Options) -> tuple[int, int]:
    """The size the pipeline will end at, before per-format fixes (imgproxy's limitScale)."""
    out_w = min_non_zero(plan.scaled_width, plan.crop_width)
    out_h = min_non_zero(plan.scaled_height, plan.crop_height)
    if options.extend.enabled:
        out_w, out_h = max(out_w, plan.target_width), max(out_h, plan.target_height)
    elif options.extend_aspect_ratio.enabled:
        out_w, out_h = max(out_w, plan.extend_ar_width), max(out_h, plan.extend_ar_height)
    top, right, bottom, left = options.padding
    out_w += scale_to_even(left, plan.dpr_scale) + scale_to_even(right, plan.dpr_scale)
    out_h += scale_to_even(top, plan.dpr_scale) + scale_to_even(bottom, plan.dpr_scale)
    return out_w, out_h


def make_plan(width: int, height: int, options: Options, vector: bool = False) -> Plan:
    """The plan for a source (or its crop) of width x height, within the result limit.

    Past `max_result_dimension` imgproxy scales everything down (image, paddings, offsets)
    until the result fits; it never refuses.
    """
    wscale, hscale, dpr_scale = calc_scale(width, height, options, vector)
    plan = _sizes(width, height, options, wscale, hscale, dpr_scale)
    limit = options.max_result_dimension
    out_w, out_h = output_size(plan, options)
    if max(out_w, out_h) <= limit:
        return plan
    down = limit / max(out_w, out_h)
    wscale = max(wscale * down, 1 / width)  # never below one pixel
    hscale = max(hscale * down, 1 / height)
    return _sizes(width, height, options, wscale, hscale, dpr_scale * down)


def _offset(value: float, outer: int, dpr: float) -> int:
    # |v| >= 1: pixels, scaled by the dpr; |v| < 1: a share of the outer size.
    return round(value * dpr) if abs(value) >= 1 else round(outer * value)


def position(
    outer_w: int,
    outer_h: int,
    inner_w: int,
    inner_h: int,
    gravity: Gravity,
    dpr: float = 1.0,
    overflow: bool = False,
) -> tuple[int, int]:
    """Top-left of an inner_w x inner_h box placed in outer_w x outer_h by `gravity`.

    Used to crop (inner within the image), to extend (image within the canvas) and to
    place a watermark (which may stick out: `overflow`). imgproxy's calcPosition.
    """
    if gravity.type == "fp":
        left = round(outer_w * gravity.x) - inner_w // 2
        top = round(outer_h * gravity.y) - inner_h // 2
    else:
        off_x = _offset(gravity.x, outer_w, dpr)
        off_y = _offset(gravity.y, outer_h, dpr)
        left = round((outer_w - inner_w + 1) / 2) + off_x
        top = round((outer_h - inner_h + 1) / 2) + off_y
        kind = gravity.type
        if kind in ("no", "noea", "nowe"):
            top = off_y
        if kind in ("ea", "noea", "soea"):
            left = outer_w - inner_w - off_x
        if kind in ("so", "soea", "sowe"):
            top = outer_h - inner_h - off_y
        if kind in ("we", "nowe", "sowe"):
            left = off_x
    if overflow:
        left = max(1 - inner_w, min(left, outer_w - 1))
        top = max(1 - inner_h, min(top, outer_h - 1))
    else:
        left = max(0, min(left, outer_w - inner_w))
        top = max(0, min(top, outer_h - inner_h))
    return left, top
