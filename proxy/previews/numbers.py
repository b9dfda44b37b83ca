"""Numbers, booleans and colours in option arguments, read the way imgproxy (Go) reads them.

Go's `strconv.Atoi`/`ParseFloat` grammar, not Python's (`int(" 1_0")` is 10 in Python and
an error in Go), plus bounds: every number a preview cannot use (not finite, or beyond
what the pixel arithmetic can take) is a 400 that names the option, never an overflow
deeper down.
"""

from __future__ import annotations

import math
import re

from proxy.errors import BadRequest

INT_MAX = 2**31 - 1  # libvips's coordinates are C ints
FLOAT_MAX = 1e9  # far beyond any useful zoom, offset or crop, and every product stays finite

_INT = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
MAX_NUMBER_TEXT = 64  # a longer spelling is garbage, and not worth parsing
_NOT_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
_HEX_COLOR = re.compile(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}")
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})


class OptionError(BadRequest):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"invalid option {name}: {problem}")


def integer(name: str, text: str, low: int = 0, high: int = INT_MAX) -> int:
    if not _INT.fullmatch(text):
        if re.fullmatch(r"[+-]?[0-9]+", text):
            raise OptionError(name, f"{text} is out of range ({low} to {high})")
        raise OptionError(name, f"{text!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise OptionError(name, f"{value} is out of range ({low} to {high})")
    return value


def number(
    name: str,
    text: str,
    low: float = 0.0,
    high: float = FLOAT_MAX,
    *,
    above: bool = False,
) -> float:
    """A finite float with low <= value <= high (low < value with `above`)."""
    if len(text) > MAX_NUMBER_TEXT:
        raise OptionError(name, "number too long")
    if _DECIMAL.fullmatch(text):
        value = float(text)
    elif _HEX_FLOAT.fullmatch(text):
        try:
            value = float.fromhex(text)
        except OverflowError:
            value = math.inf
    elif _NOT_FINITE.fullmatch(text):
        raise OptionError(name, f"{text!r} is not a finite number")
    else:
        raise OptionError(name, f"{text!r} is not a number")
    if not math.isfinite(value) or value > high or value < low or (above and value == low):
        limit = f"more than {low:g}" if above else f"at least {low:g}"
        raise OptionError(name, f"{text} is out of range ({limit}, at most {high:g})")
    return value


def boolean(text: str) -> bool:
    """Go's strconv.ParseBool; imgproxy reads anything else (even "") as false."""
    return text in _TRUE


def hex_color(name: str, text: str) -> tuple[int, int, int]:
    """`rgb` or `rrggbb`, as imgproxy's colours are written (no `#`, no names, no alpha)."""
    if not _HEX_COLOR.fullmatch(text):
        raise OptionError(name, f"{text!r} is not a hex colour (3 or 6 hex digits)")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    raw = bytes.fromhex(text)
    return raw[0], raw[1], raw[2]
