"""The kinds of value a setting takes: how each is parsed, its bounds, and how it is described.

A kind's `form` is the text that names the accepted form, in error messages and in the
README's settings table, so the two can never disagree with the parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from proxy.formats import canonical
from proxy.units import (
    DURATION_FORM,
    SIZE_FORM,
    format_duration,
    format_size_setting,
    parse_duration,
    parse_size,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Kind(Generic[T]):
    form: str
    parse: Callable[[str], T]


def _bounded(value: float, low: float, high: float, show: Callable[[float], str]) -> None:
    if not low <= value <= high:
        raise ValueError(f"{show(value)} is out of range: from {show(low)} to {show(high)}")


def size(low: str, high: str) -> Kind[int]:
    lo, hi = parse_size(low), parse_size(high)

    def parse(raw: str) -> int:
        value = parse_size(raw)
        _bounded(value, lo, hi, lambda v: format_size_setting(int(v)))
        return value

    return Kind(f"{SIZE_FORM}, from {low} to {high}", parse)


def duration(low: str, high: str) -> Kind[float]:
    lo, hi = parse_duration(low), parse_duration(high)

    def parse(raw: str) -> float:
        value = parse_duration(raw)
        _bounded(value, lo, hi, format_duration)
        return value

    return Kind(f"{DURATION_FORM}, from {low} to {high}", parse)


def duration_or_off(low: str, high: str) -> Kind[float]:
    """A duration, or `off` (0: the mechanism is not used)."""
    inner = duration(low, high)

    def parse(raw: str) -> float:
        return 0.0 if raw.strip().lower() == "off" else inner.parse(raw)

    return Kind(f"off, or {inner.form}", parse)


def integer(low: int, high: int, what: str = "an integer") -> Kind[int]:
    def parse(raw: str) -> int:
        value = int(raw)
        _bounded(value, low, high, lambda v: str(int(v)))
        return value

    return Kind(f"{what} {low}-{high}", parse)


def optional(kind: Kind[T], when_empty: str) -> Kind[T | None]:
    """Empty means "derived from other settings" (`when_empty` says how)."""

    def parse(raw: str) -> T | None:
        return None if raw == "" else kind.parse(raw)

    return Kind(f"{kind.form}, or empty for {when_empty}", parse)


def number(low: float, high: float, what: str, *, low_included: bool = False) -> Kind[float]:
    """A finite number with low < value <= high (low <= value with `low_included`)."""
    above = "at least" if low_included else "more than"

    def parse(raw: str) -> float:
        value = float(raw)
        fits = low <= value <= high if low_included else low < value <= high
        if not fits:  # also false for NaN
            raise ValueError(f"{raw} is out of range: {above} {low:g}, at most {high:g}")
        return value

    return Kind(f"{what}, {above} {low:g} and at most {high:g}", parse)


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "on", "true", "yes"):
        return True
    if lowered in ("0", "off", "false", "no", ""):
        return False
    raise ValueError


FLAG = Kind("on or off", _flag)
TEXT = Kind("text", str)


def choice(*values: str) -> Kind[str]:
    def parse(raw: str) -> str:
        if raw.lower() not in values:
            raise ValueError
        return raw.lower()

    return Kind(", ".join(values[:-1]) + f" or {values[-1]}", parse)


BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def _buckets(raw: str) -> tuple[str, ...]:
    names = tuple(b.strip() for b in raw.split(",") if b.strip())
    for name in names:
        if not BUCKET_RE.match(name) or ".." in name:
            raise ValueError(
                f"bad bucket name {name!r}: 2-63 of a-z, 0-9, '.', '_', '-', starting with a "
                "letter or digit"
            )
    return names


BUCKETS = Kind("comma-separated bucket names", _buckets)


def _hex_list(raw: str) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(part.strip()) for part in raw.split(",") if part.strip())


HEX_LIST = Kind("hex, comma-separated for rotation", _hex_list)


def _format_quality(raw: str) -> dict[str, int]:
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, value = part.partition("=")
        fmt = canonical(name.strip())
        if not sep or fmt is None:
            raise ValueError(f"{name.strip()!r} is not an output format")
        quality = int(value)
        if not 1 <= quality <= 100:
            raise ValueError(f"quality {quality} out of 1-100")
        result[fmt] = quality
    return result


FORMAT_QUALITY = Kind("format=quality pairs, e.g. webp=79,avif=63", _format_quality)


def _formats(raw: str) -> tuple[str, ...]:
    names = [p.strip() for p in raw.split(",") if p.strip()]
    formats = []
    for name in names:
        fmt = canonical(name)
        if fmt is None:
            raise ValueError(f"{name!r} is not an image format")
        formats.append(fmt)
    return tuple(sorted(set(formats)))


FORMATS = Kind("comma-separated image formats, e.g. png,gif", _formats)


def _words(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


WORDS = Kind("comma-separated values", _words)

_TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]{16,4096}")


def _token(raw: str) -> str:
    # RFC 6750's b64token; short tokens can be guessed, and the header carries nothing else.
    if raw and not _TOKEN_RE.fullmatch(raw):
        raise ValueError("at least 16 characters of A-Z a-z 0-9 . _ ~ + / = -")
    return raw


TOKEN = Kind("empty, or a token of at least 16 characters (A-Z a-z 0-9 . _ ~ + / = -)", _token)


def _service_url(raw: str) -> str:
    if not raw:
        return raw
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL would be logged and shown; leave them out")
    if parts.fragment:
        raise ValueError("a URL fragment is never sent")
    parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    return raw


SERVICE_URL = Kind("empty, or an http:// or https:// URL", _service_url)


_ORIGIN_RE = re.compile(
    r"(https?)://([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?"
)


def _origins(raw: str) -> tuple[str, ...]:
    """`*`, or web origins exactly as a browser sends them in `Origin` (lower case, no path)."""
    if raw.strip() == "*":
        return ("*",)
    origins = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        match = _ORIGIN_RE.fullmatch(part.lower())
        port = match.group(3) if match else None
        if match is None or (port is not None and not 0 < int(port) < 65536):
            raise ValueError(f"{part!r} is not an origin scheme://host[:port]")
        if port is not None and int(port) == {"http": 80, "https": 443}[match.group(1)]:
            part = part.lower().rsplit(":", 1)[0]  # a browser never sends the default port
        origins.append(part.lower())
    return tuple(origins)


ORIGINS = Kind("empty (off), * or comma-separated origins scheme://host[:port]", _origins)


def _presets(raw: str) -> dict[str, str]:
    presets: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        if part.startswith("#"):
            continue  # a comment, as in imgproxy's presets
        name, sep, options = part.partition("=")
        if not sep or not name.strip() or not options.strip():
            raise ValueError(f"bad preset {part!r}")
        presets[name.strip()] = options.strip()
    return presets


PRESETS = Kind(
    "name=options pairs separated by ';', e.g. default=q:70;thumb=rs:fill:300:300", _presets
)
