"""Parsing imgproxy processing options (`name:arg:arg` path segments) into `Options`.

One small parser per option, registered under its full and short names, as imgproxy does,
with imgproxy's argument rules (options/parser/apply.go): an empty argument leaves that
value as an earlier option or preset set it, booleans are Go's ParseBool (anything else
is false), formats are spelled as imgproxy spells them. Every failure is a 400 whose
reason names the option.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from proxy.errors import BadRequest, Forbidden, ProxyError
from proxy.formats import url_format
from proxy.previews.formats import BEST
from proxy.previews.numbers import (
    FLOAT_MAX,
    INT_MAX,
    OptionError,
    boolean,
    hex_color,
    integer,
    number,
)
from proxy.previews.options import (
    GRAVITY_TYPES,
    MAIN_ONLY,
    RESIZING_TYPES,
    WATERMARK_POSITIONS,
    Crop,
    Extend,
    Gravity,
    Options,
    Trim,
    Watermark,
)

__all__ = ["PRESET_NAMES", "OptionError", "Rules", "check_presets", "parse_options"]

CROP_GRAVITIES = GRAVITY_TYPES
EXTEND_GRAVITIES = tuple(g for g in GRAVITY_TYPES if g != "sm")
MAX_DPR = 8.0  # a deliberate cap (README): imgproxy caps only the DPR client hint
MAX_BLUR = 100.0  # libvips's blur cost climbs steeply past it (README)
MAX_SHARPEN = 10.0  # the largest sigma libvips's sharpen takes
INT64 = 2**63 - 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Rules:
    """What parsing depends on besides the URL: presets, setting-backed defaults, gates."""

    presets: Mapping[str, str] = field(default_factory=dict)
    defaults: Options = field(default_factory=Options)
    allow_security_options: bool = False


class Values(dict[str, Any]):
    """The fields set so far, over the defaults: an empty argument keeps `current(...)`."""

    def __init__(self, rules: Rules) -> None:
        super().__init__()
        self.rules = rules

    def current(self, name: str) -> Any:
        return self[name] if name in self else getattr(self.rules.defaults, name)


Parser = Callable[[str, list[str], Values], None]


def _count(name: str, args: list[str], high: int) -> None:
    # imgproxy has no minimum: a segment `name:` has the one argument "".
    if len(args) > high:
        raise OptionError(name, f"at most {high} arguments, got {len(args)}")


def _format_name(name: str, text: str) -> str:
    fmt = url_format(text)
    if fmt is None:
        raise OptionError(name, f"unknown format {text!r}")
    return fmt


def _gravity(name: str, args: list[str], allowed: tuple[str, ...], previous: Gravity) -> Gravity:
    kind = args[0]
    if kind not in allowed:
        raise OptionError(name, f"unknown gravity {kind!r}")
    if kind == "sm":
        _count(name, args, 1)
        return Gravity("sm")
    if kind == "fp" and len(args) != 3:
        raise OptionError(name, "fp takes exactly x and y")
    _count(name, args, 3)
    low, high = (0.0, 1.0) if kind == "fp" else (-FLOAT_MAX, FLOAT_MAX)
    x = number(name, args[1], low, high) if len(args) > 1 and args[1] else previous.x
    y = number(name, args[2], low, high) if len(args) > 2 and args[2] else previous.y
    return Gravity(kind, x, y)


# -- one parser per option ---------------------------------------------------------------


def _single(field_name: str, convert: Callable[[str, str], Any]) -> Parser:
    """A parser for the many options that take one argument and set one field."""

    def parse(name: str, args: list[str], v: Values) -> None:
        _count(name, args, 1)
        v[field_name] = convert(name, args[0])

    return parse


def _dimension(name: str, text: str) -> int:
    return integer(name, text)


def _flag(name: str, text: str) -> bool:
    return boolean(text)


def _percent(name: str, text: str) -> int:
    return integer(name, text, 0, 100)


_width = _single("width", _dimension)
_height = _single("height", _dimension)
_enlarge = _single("enlarge", _flag)


def _resizing_type(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1)
    if args[0] not in RESIZING_TYPES:
        raise OptionError(name, f"unknown resizing type {args[0]!r}")
    v["resizing_type"] = args[0]


def _extend_value(name: str, args: list[str], previous: Extend) -> Extend:
    _count(name, args, 4)
    gravity = previous.gravity
    if len(args) > 1:
        gravity = _gravity(name, args[1:], EXTEND_GRAVITIES, gravity)
    return Extend(boolean(args[0]), gravity)


def _extend(name: str, args: list[str], v: Values) -> None:
    v["extend"] = _extend_value(name, args, v.current("extend"))


def _extend_aspect_ratio(name: str, args: list[str], v: Values) -> None:
    v["extend_aspect_ratio"] = _extend_value(name, args, v.current("extend_aspect_ratio"))


def _size(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 7)
    for setter, arg in zip((_width, _height, _enlarge), args[:3], strict=False):
        if arg:
            setter(name, [arg], v)
    if len(args) > 3 and args[3]:
        _extend(name, args[3:], v)


def _resize(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 8)
    if args[0]:
        _resizing_type(name, args[:1], v)
    if len(args) > 1:
        _size(name, args[1:], v)


def _zoom(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 2)
    x = number(name, args[0], above=True)
    v["zoom_x"] = x
    v["zoom_y"] = number(name, args[1], above=True) if len(args) == 2 else x


def _dpr(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1)
    v["dpr"] = number(name, args[0], 0.0, MAX_DPR, above=True)


def _gravity_option(name: str, args: list[str], v: Values) -> None:
    v["gravity"] = _gravity(name, args, CROP_GRAVITIES, v.current("gravity"))


def _crop(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 5)
    previous = v.current("crop") or Crop()
    width = number(name, args[0])
    height = number(name, args[1]) if len(args) > 1 else previous.height
    gravity = previous.gravity
    if len(args) > 2:
        gravity = _gravity(name, args[2:], CROP_GRAVITIES, gravity or Gravity())
    v["crop"] = Crop(width, height, gravity)


def _trim(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 4)
    if not args[0]:
        v["trim"] = None  # imgproxy v4: an empty threshold turns trimming off
        return
    previous = v.current("trim") or Trim(0.0)
    threshold = number(name, args[0], -INT_MAX, INT_MAX)
    color = hex_color(name, args[1]) if len(args) > 1 and args[1] else None
    equal_hor = boolean(args[2]) if len(args) > 2 and args[2] else previous.equal_hor
    equal_ver = boolean(args[3]) if len(args) > 3 and args[3] else previous.equal_ver
    v["trim"] = Trim(threshold, color, equal_hor, equal_ver)


def _padding(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 4)
    top, right, bottom, left = v.current("padding")
    # An empty argument inherits, CSS-like: right from top, bottom from top, left from right.
    top = _dimension(name, args[0]) if args[0] else top
    right = _dimension(name, args[1]) if len(args) > 1 and args[1] else top
    bottom = _dimension(name, args[2]) if len(args) > 2 and args[2] else top
    left = _dimension(name, args[3]) if len(args) > 3 and args[3] else right
    v["padding"] = (top, right, bottom, left)


def _rotate(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1)
    angle = integer(name, args[0], -INT_MAX, INT_MAX)
    if angle % 90:
        raise OptionError(name, "angle must be a multiple of 90")
    v["rotate"] = angle % 360  # a deliberate difference (README): -90 means 270


def _flip(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 2)
    if args[0]:
        v["flip_horizontal"] = boolean(args[0])
    if len(args) > 1 and args[1]:
        v["flip_vertical"] = boolean(args[1])


def _channel(name: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():  # Go's ParseUint: no sign
        raise OptionError(name, f"{text!r} is not a number 0-255")
    return integer(name, text, 0, 255)


def _background(name: str, args: list[str], v: Values) -> None:
    if len(args) == 1:
        v["background"] = hex_color(name, args[0]) if args[0] else None
    elif len(args) == 3:
        r, g, b = (_channel(name, a) for a in args)
        v["background"] = (r, g, b)
    else:
        raise OptionError(name, "expected a hex colour or R:G:B")


def _watermark(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 7)
    opacity = number(name, args[0], 0.0, 1.0)
    previous = v.current("watermark") or Watermark(0.0)
    gravity = previous.position
    if len(args) > 1 and args[1]:
        if args[1] not in WATERMARK_POSITIONS:
            raise OptionError(name, f"unknown position {args[1]!r}")
        gravity = replace(gravity, type=args[1])
    if len(args) > 2 and args[2]:
        gravity = replace(gravity, x=number(name, args[2], -FLOAT_MAX))
    if len(args) > 3 and args[3]:
        gravity = replace(gravity, y=number(name, args[3], -FLOAT_MAX))
    scale = previous.scale
    if len(args) > 4 and args[4]:
        scale = number(name, args[4], above=True)
    v["watermark"] = Watermark(opacity, gravity, scale) if opacity > 0 else None


def _format_quality(name: str, args: list[str], v: Values) -> None:
    if len(args) % 2:
        raise OptionError(name, f"missing quality for {args[-1]!r}")
    pairs = dict(v.current("format_quality"))
    for fmt, quality in zip(args[::2], args[1::2], strict=True):
        pairs[_format_name(name, fmt)] = _percent(name, quality)
    v["format_quality"] = tuple(sorted(pairs.items()))


def _format(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1)
    if not args[0]:
        raise OptionError(name, "expected a format")
    v["format"] = BEST if args[0] == BEST else _format_name(name, args[0])


def _skip_processing(name: str, args: list[str], v: Values) -> None:
    # Added to the configured list and to earlier skp options, as imgproxy does.
    formats = set(v.current("skip_processing")) | {_format_name(name, a) for a in args}
    v["skip_processing"] = tuple(sorted(formats))


def _filename(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 2)
    text = args[0]
    if len(args) == 2 and boolean(args[1]):
        encoded = text.rstrip("=")
        try:
            if not _BASE64URL.fullmatch(encoded):
                raise ValueError
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise OptionError(name, "not valid URL-safe base64") from None
        # Any bytes, as imgproxy takes them; the header is made safe where it is built.
        text = raw.decode("utf-8", errors="replace")
    v["filename"] = text


def _expires(name: str, args: list[str], v: Values) -> None:
    _count(name, args, 1)
    stamp = integer(name, args[0], -INT64, INT64)
    v["expires"] = stamp if stamp > 0 else None  # 0 or negative: never expires


def _security(parser: Parser) -> Parser:
    """imgproxy's security options: only where PREVIEWS_ALLOW_SECURITY_OPTIONS allows them."""

    def parse(name: str, args: list[str], v: Values) -> None:
        if not v.rules.allow_security_options:
            raise Forbidden(f"security option {name} is not allowed")
        parser(name, args, v)

    return parse


def _megapixels(name: str, text: str) -> float:
    return number(name, text, 0.0, 10_000.0, above=True)


def _frame_megapixels(name: str, text: str) -> float:
    return number(name, text, 0.0, 10_000.0)  # 0: no per-frame limit, the sum counts


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
_register(_single("min_width", _dimension), "min-width", "mw")
_register(_single("min_height", _dimension), "min-height", "mh")
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
_register(_single("auto_rotate", _flag), "auto_rotate", "ar")
_register(_flip, "flip", "fl")
_register(_background, "background", "bg")
_register(_single("blur", lambda n, t: number(n, t, 0.0, MAX_BLUR)), "blur", "bl")
_register(_single("sharpen", lambda n, t: number(n, t, 0.0, MAX_SHARPEN)), "sharpen", "sh")
_register(_single("pixelate", _dimension), "pixelate", "pix")
_register(_watermark, "watermark", "wm")
_register(_single("strip_metadata", _flag), "strip_metadata", "sm")
_register(_single("keep_copyright", _flag), "keep_copyright", "kcr")
_register(_single("strip_color_profile", _flag), "strip_color_profile", "scp")
_register(_single("preserve_hdr", _flag), "preserve_hdr", "ph")
_register(_single("enforce_thumbnail", _flag), "enforce_thumbnail", "eth")
_register(_single("quality", _percent), "quality", "q")
_register(_format_quality, "format_quality", "fq")
_register(_single("max_bytes", _dimension), "max_bytes", "mb")
_register(_format, "format", "f", "ext")
_register(_skip_processing, "skip_processing", "skp")
_register(_single("raw", _flag), "raw")
_register(_single("cachebuster", lambda n, t: t), "cachebuster", "cb")
_register(_expires, "expires", "exp")
_register(_filename, "filename", "fn")
_register(_single("return_attachment", _flag), "return_attachment", "att")
_register(_security(_single("max_src_resolution", _megapixels)), "max_src_resolution", "msr")
_register(
    _security(_single("max_src_file_size", lambda n, t: integer(n, t, 1, INT64))),
    "max_src_file_size",
    "msfs",
)
_register(
    _security(_single("max_animation_frames", lambda n, t: integer(n, t, 1, 100_000))),
    "max_animation_frames",
    "maf",
)
_register(
    _security(_single("max_animation_frame_resolution", _frame_megapixels)),
    "max_animation_frame_resolution",
    "mafr",
)
_register(
    _security(_single("max_result_dimension", lambda n, t: integer(n, t, 1, 65535))),
    "max_result_dimension",
    "mrd",
)


PIPELINE_SEPARATOR = "-"
# Option names whose parsers set options of the whole result (MAIN_ONLY fields).
MAIN_OPTIONS = frozenset(
    {
        "strip_metadata", "sm", "keep_copyright", "kcr", "strip_color_profile", "scp",
        "preserve_hdr", "ph", "enforce_thumbnail", "eth", "quality", "q", "format_quality",
        "fq", "max_bytes", "mb", "format", "f", "ext", "skip_processing", "skp", "raw",
        "cachebuster", "cb", "expires", "exp", "filename", "fn", "return_attachment", "att",
        "max_animation_frames", "maf", "max_animation_frame_resolution", "mafr",
        "max_result_dimension", "mrd", "max_src_resolution", "msr", "max_src_file_size",
        "msfs",
    }
)  # fmt: skip


class Chain(list[Values]):
    """The pipelines of one URL: the main one first, each chained one after it."""

    def at(self, index: int) -> Values:
        while len(self) <= index:
            self.append(Values(self[0].rules))
        return self[index]


def _apply(segments: Iterable[str], chain: Chain, used: tuple[str, ...], index: int = 0) -> None:
    """imgproxy's rules: a `-` segment starts the next pipeline; a preset applies to the
    pipeline it is used in, and its own pipelines chain on from there; options of the whole
    result always go to the main pipeline."""
    presets = chain[0].rules.presets
    for segment in segments:
        if segment == PIPELINE_SEPARATOR:
            index += 1
            chain.at(index)
            continue
        name, *args = segment.split(":")
        if not args:
            raise BadRequest(f"{segment!r} is not an option (name:arguments)")
        if name in PRESET_NAMES:
            for preset in args:
                if preset not in presets:
                    raise OptionError(name, f"unknown preset {preset!r}")
                if preset in used:
                    continue  # imgproxy skips a preset already applied in this chain
                _apply(presets[preset].split("/"), chain, (*used, preset), index)
            continue
        parser = PARSERS.get(name)
        if parser is None:
            raise BadRequest(f"unknown option {name!r}")
        parser(name, args, chain[0] if name in MAIN_OPTIONS else chain.at(index))


def parse_options(segments: Iterable[str], rules: Rules = Rules()) -> Options:
    """Options from URL segments; the `default` preset, when configured, applies first."""
    chain = Chain([Values(rules)])
    used: tuple[str, ...] = ()
    if "default" in rules.presets:
        used = ("default",)
        _apply(rules.presets["default"].split("/"), chain, used)
    _apply(segments, chain, used)
    main = replace(rules.defaults, **chain[0])
    if len(chain) == 1:
        return main
    # A chained pipeline starts from imgproxy's defaults, with the main one's result options.
    base = replace(Options(), **{name: getattr(main, name) for name in MAIN_ONLY})
    chained = tuple(replace(base, **values) for values in chain[1:])
    return replace(main, pipelines=chained)


def check_presets(rules: Rules) -> list[str]:
    """What is wrong with the configured presets, one line each (imgproxy refuses to start)."""
    problems = []
    for name, value in rules.presets.items():
        values = Values(rules)
        try:
            _apply(value.split("/"), Chain([values]), (name,))
        except ProxyError as exc:
            problems.append(f"preset {name!r}: {exc.reason}")
            continue
        expires = values.get("expires")
        if expires is not None and expires < time.time():
            problems.append(f"preset {name!r}: expires {expires} is in the past")
    return problems
