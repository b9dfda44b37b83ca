"""Sizes and positions, computed the way imgproxy computes them (processing/prepare.go).

Pure arithmetic, no images: the pipeline steps and the shrink-on-load both read the `Plan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from proxy.previews.options import Gravity, Options


def scale(value: int, factor: float) -> int:
    """imgproxy's imath.Scale: 0 stays 0 (meaning "not set"), anything else rounds, at least 1."""
    if value == 0:
        return 0
    return max(1, math.floor(value * factor + 0.5))  # Go's math.Round: halves away from 0


def crop_size(side: int, crop: float) -> int:
    if crop == 0:
        return 0
    if crop >= 1:
        return int(crop)
    return max(1, scale(side, crop))


@dataclass(frozen=True)
class Plan:
    scaled_width: int  # the image after the scale step
    scaled_height: int
    result_width: int  # crop-to-result and extend target; 0 = that side is free
    result_height: int
    dpr_scale: float


def _resizing_type(options: Options, src_w: float, src_h: float, dst_w: float, dst_h: float) -> str:
    if options.resizing_type != "auto":
        return options.resizing_type
    # auto: fill when source and result share an orientation, else fit.
    same = (src_w - src_h >= 0) == (dst_w - dst_h >= 0)
    return "fill" if same else "fit"


def calc_scale(width: int, height: int, options: Options) -> tuple[float, float, float]:
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

    if not options.enlarge:
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


def make_plan(width: int, height: int, options: Options) -> Plan:
    wscale, hscale, dpr_scale = calc_scale(width, height, options)
    return Plan(
        scaled_width=scale(width, wscale),
        scaled_height=scale(height, hscale),
        result_width=scale(options.width, dpr_scale * options.zoom_x),
        result_height=scale(options.height, dpr_scale * options.zoom_y),
        dpr_scale=dpr_scale,
    )


def fill_down_result(plan: Plan, width: int, height: int) -> tuple[int, int]:
    """fill-down without enlarge: keep the requested aspect ratio within what there is."""
    rw, rh = plan.result_width, plan.result_height
    if not rw or not rh:
        return rw, rh
    diff_w, diff_h = rw / width, rh / height
    if diff_w > diff_h and diff_w > 1:
        return width, scale(width, rh / rw)
    if diff_h > diff_w and diff_h > 1:
        return scale(height, rw / rh), height
    return rw, rh


def position(
    outer_w: int, outer_h: int, inner_w: int, inner_h: int, gravity: Gravity, dpr: float = 1.0
) -> tuple[int, int]:
    """Top-left of an inner_w x inner_h box placed in outer_w x outer_h by `gravity`.

    Used both to crop (inner within the image) and to extend (image within the canvas).
    """
    if gravity.type == "fp":
        left = round(outer_w * gravity.x) - inner_w // 2
        top = round(outer_h * gravity.y) - inner_h // 2
    else:
        off_x = round(gravity.x * dpr)
        off_y = round(gravity.y * dpr)
        left = (outer_w - inner_w + 1) // 2 + off_x
        top = (outer_h - inner_h + 1) // 2 + off_y
        kind = gravity.type
        if kind in ("no", "noea", "nowe"):
            top = off_y
        if kind in ("ea", "noea", "soea"):
            left = outer_w - inner_w - off_x
        if kind in ("so", "soea", "sowe"):
            top = outer_h - inner_h - off_y
        if kind in ("we", "nowe", "sowe"):
            left = off_x
    left = max(0, min(left, outer_w - inner_w))
    top = max(0, min(top, outer_h - inner_h))
    return left, top


def extend_aspect_target(width: int, height: int, plan: Plan) -> tuple[int, int] | None:
    rw, rh = plan.result_width, plan.result_height
    if not rw or not rh:
        return None
    ratio = rw / rh
    if width / height > ratio:
        return width, max(1, math.floor(width / ratio + 0.5))
    return max(1, math.floor(height * ratio + 0.5)), height
