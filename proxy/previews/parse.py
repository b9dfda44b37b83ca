"""Parsing imgproxy processing options (`name:arg:arg` path segments) into `Options`.

One small parser per option, registered under its full and short names, as imgproxy does.
Every failure is a 400 whose reason names the option.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from proxy.errors import BadRequest
from proxy.formats import canonical
from proxy.previews.options import (
    GRAVITY_TYPES,
    RESIZING_TYPES,
    Crop,
    Extend,
    Gravity,
    Options,
    Trim,
)

Values = dict[str, Any]
Parser = Callable[[str, list[str], Values], None]

MAX_PRESET_DEPTH = 4


class OptionError(BadRequest):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"invalid option {name}: {problem}")


def _count(name: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low}-{high}"
        raise OptionError(name, f"expected {expected} arguments, got {len(args)}")


def _int(name: str, text: str, low: int = 0, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise OptionError(name, f"{text!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        limit = f"{low}-{high}" if high is not None else f">= {low}"
        raise OptionError(name, f"{value} out of range ({limit})")
    return value


def _float(name: str, text: str, low: float = 0.0, *, strict: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(name, f"{text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise OptionError(name, f"{text!r} is not a number")
    if value < low or (strict and value == low):
        raise OptionError(name, f"{text} out of range ({'>' if strict else '>='} {low:g})")
    return value


def _bool(name: str, text: str) -> bool:
    # Go's strconv.ParseBool, which imgproxy uses.
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise OptionError(name, f"{text!r} is not a boolean")


def _color(name: str, text: str) -> tuple[int, int, int]:
    if len(text) != 6:
        raise OptionError(name, f"{text!r} is not a hex colour")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise OptionError(name, f"{text!r} is not a hex colour") from None
    return raw[0], raw[1], raw[2]


def _gravity(name: str, args: list[str], *, smart: bool = True) -> Gravity:
    if not args or not args[0]:
        raise OptionError(name, "gravity type missing")
    kind = args[0]
    allowed = GRAVITY_TYPES if smart else tuple(g for g in GRAVITY_TYPES if g != "sm")
    if kind not in allowed:
        raise OptionError(name, f"unknown gravity {kind!r}")
    if kind == "sm":
        _count(name, args, 1, 1)
        return Gravity("sm")
    if kind == "fp":
        _count(name, args, 3, 3)
        x, y = _float(name, args[1]), _float(name, args[2])
        if x > 1 or y > 1:
            raise OptionError(name, "focus point coordinates must be within 0-1")
        return Gravity("fp", x, y)
    _count(name, args, 1, 3)
    offsets = [_float(name, a, low=float("-inf")) if a else 0.0 for a in args[1:]]
    return Gravity(kind, *offsets)


# -- one parser per option ---------------------------------------------------------------


def _single(field: str, convert: Callable[[str, str], Any]) -> Parser:
    """A parser for the many options that take one argument and set one field."""

    def parse(name: str, args: list[str], v: Values) -> None:
        _count(name, args, 1, 1)
        v[field] = convert(name, args[0])

    return parse


def _percent(name: str, text: str) -> int:
    return _int(name, text, 0, 100)


def _text(name: str, text: str) -> str:
    return text


_width = _single("width", _int)
_height = _single("height", _int)
_enlarge = _single("enlarge", _bool)


def _resizing_type(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 1)
    if args[0] not in RESIZING_TYPES:
        raise OptionError(name, f"unknown resizing type {args[0]!r}")
    v["resizing_type"] = args[0]


def _extend_value(name: str, args: list[str]) -> Extend:
    _count(name, args, 1, 4)
    gravity = _gravity(name, args[1:], smart=False) if len(args) > 1 else Gravity()
    return Extend(_bool(name, args[0]), gravity)


def _extend(name: str, args: list[str], v: Values) -> None:
    v["extend"] = _extend_value(name, args)


def _extend_aspect_ratio(name: str, args: list[str], v: Values) -> None:
    v["extend_aspect_ratio"] = _extend_value(name, args)


def _size(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 7)
    setters = (_width, _height, _enlarge)
    for setter, arg in zip(setters, args[:3], strict=False):
        if arg:
            setter(name, [arg], v)
    if len(args) > 3 and args[3]:
        v["extend"] = _extend_value(name, args[3:])


def _resize(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 8)
    if args[0]:
        _resizing_type(name, args[:1], v)
    if len(args) > 1:
        _size(name, args[1:], v)


def _zoom(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 2)
    x = _float(name, args[0], strict=True)
    v["zoom_x"] = x
    v["zoom_y"] = _float(name, args[1], strict=True) if len(args) == 2 else x


def _dpr(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 1)
    v["dpr"] = _float(name, args[0], strict=True)
    if v["dpr"] > 8:
        raise OptionError(name, "out of range (at most 8)")


def _gravity_option(name: str, args: list[str], v: Values) -> None:
    v["gravity"] = _gravity(name, args)


def _crop(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 2, 5)
    gravity = _gravity(name, args[2:]) if len(args) > 2 else None
    v["crop"] = Crop(_float(name, args[0]), _float(name, args[1]), gravity)


def _trim(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 4)
    color = _color(name, args[1]) if len(args) > 1 and args[1] else None
    equal = [_bool(name, a) if a else False for a in args[2:4]] + [False, False]
    v["trim"] = Trim(_float(name, args[0]), color, equal[0], equal[1])


def _padding(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 4)
    values = [_int(name, a) if a else 0 for a in args]
    # CSS shorthand: top, right (= left), bottom (= top), left (= right).
    top = values[0]
    right = values[1] if len(values) > 1 else top
    bottom = values[2] if len(values) > 2 else top
    left = values[3] if len(values) > 3 else right
    v["padding"] = (top, right, bottom, left)


def _rotate(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 1)
    angle = _int(name, args[0], low=-(2**31))
    if angle % 90:
        raise OptionError(name, "angle must be a multiple of 90")
    v["rotate"] = angle % 360


def _flip(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 2)
    v["flip_horizontal"] = _bool(name, args[0]) if args[0] else False
    v["flip_vertical"] = _bool(name, args[1]) if len(args) > 1 and args[1] else False


def _background(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 3)
    if len(args) == 1:
        v["background"] = _color(name, args[0]) if args[0] else None
    elif len(args) == 3:
        r, g, b = (_int(name, a, 0, 255) for a in args)
        v["background"] = (r, g, b)
    else:
        raise OptionError(name, "expected a hex colour or R:G:B")


def _format_name(name: str, text: str) -> str:
    fmt = canonical(text)
    if fmt is None:
        raise OptionError(name, f"unsupported format {text!r}")
    return fmt


def _format_quality(name: str, args: list[str], v: Values) -> None:
    if not args or len(args) % 2:
        raise OptionError(name, "expected format:quality pairs")
    pairs = dict(v.get("format_quality", ()))
    for fmt, quality in zip(args[::2], args[1::2], strict=True):
        pairs[_format_name(name, fmt)] = _int(name, quality, 0, 100)
    v["format_quality"] = tuple(sorted(pairs.items()))


def _format(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 1)
    v["format"] = _format_name(name, args[0]) if args[0] else None


def _skip_processing(name: str, args: list[str], v: Values) -> None:
    if not args:
        raise OptionError(name, "expected at least one format")
    v["skip_processing"] = tuple(sorted({_format_name(name, a) for a in args}))


def _filename(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1, 2)
    text = args[0]
    if len(args) == 2 and args[1] and _bool(name, args[1]):
        try:
            text = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise OptionError(name, "not valid base64url UTF-8") from None
    if not text or any(c in text for c in '"\\/\r\n\x00'):
        raise OptionError(name, "empty or unsafe file name")
    v["filename"] = text


PARSERS: dict[str, Parser] = {}
PRESET_NAMES = ("preset", "pr")


def _register(parser: Parser, *names: str) -> None:
    for name in names:
        PARSERS[name] = parser


_register(_resize, "resize", "rs")
_register(_size, "size", "s")
_register(_resizing_type, "resizing_type", "rt")
_register(_width, "width", "w")
_register(_height, "height", "h")
_register(_single("min_width", _int), "min-width", "min_width", "mw")
_register(_single("min_height", _int), "min-height", "min_height", "mh")
_register(_zoom, "zoom", "z")
_register(_dpr, "dpr")
_register(_enlarge, "enlarge", "el")
_register(_extend, "extend", "ex")
_register(_extend_aspect_ratio, "extend_aspect_ratio", "extend_ar", "exar")
_register(_gravity_option, "gravity", "g")
_register(_crop, "crop", "c")
_register(_trim, "trim", "t")
_register(_padding, "padding", "pd")
_register(_rotate, "rotate", "rot")
_register(_single("auto_rotate", _bool), "auto_rotate", "ar")
_register(_flip, "flip", "fl")
_register(_background, "background", "bg")
_register(_single("blur", _float), "blur", "bl")
_register(_single("sharpen", _float), "sharpen", "sh")
_register(_single("pixelate", _int), "pixelate", "pix")
_register(_single("strip_metadata", _bool), "strip_metadata", "sm")
_register(_single("keep_copyright", _bool), "keep_copyright", "kcr")
_register(_single("strip_color_profile", _bool), "strip_color_profile", "scp")
_register(_single("enforce_thumbnail", _bool), "enforce_thumbnail", "eth")
_register(_single("quality", _percent), "quality", "q")
_register(_format_quality, "format_quality", "fq")
_register(_single("max_bytes", _int), "max_bytes", "mb")
_register(_format, "format", "f", "ext")
_register(_skip_processing, "skip_processing", "skp")
_register(_single("raw", _bool), "raw")
_register(_single("cachebuster", _text), "cachebuster", "cb")
_register(_single("expires", _int), "expires", "exp")
_register(_filename, "filename", "fn")
_register(_single("return_attachment", _bool), "return_attachment", "att")


def _apply(segments: Iterable[str], v: Values, presets: Mapping[str, str], depth: int) -> None:
    for segment in segments:
        if not segment:
            continue
        name, *args = segment.split(":")
        if name in PRESET_NAMES:
            if not args or not all(args):
                raise OptionError(name, "expected preset names")
            for preset in args:
                if preset not in presets:
                    raise OptionError(name, f"unknown preset {preset!r}")
                if depth >= MAX_PRESET_DEPTH:
                    raise OptionError(name, "presets nested too deeply")
                _apply(presets[preset].split("/"), v, presets, depth + 1)
            continue
        parser = PARSERS.get(name)
        if parser is None:
            raise BadRequest(f"unknown option {name!r}")
        parser(name, args, v)


def parse_options(segments: Iterable[str], presets: Mapping[str, str] | None = None) -> Options:
    """Options from URL segments; the `default` preset, when configured, applies first."""
    presets = presets or {}
    values: Values = {}
    if "default" in presets:
        _apply(presets["default"].split("/"), values, presets, 1)
    _apply(segments, values, presets, 0)
    return replace(Options(), **values)
