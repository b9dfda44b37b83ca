"""Sizes and durations in nginx's syntax (`512k`, `1g`; `30s`, `15m`, `12h`, `7d`)."""

import re

_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([kmgt]?)\s*$", re.IGNORECASE)

# nginx accepts a sequence like "1h30m"; "ms" must be tried before "m" and "M" is months.
_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "M": 30 * 86400,
    "y": 365 * 86400,
}
_DURATION_PART_RE = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")

SIZE_FORM = "a byte count with an optional k, m, g or t suffix, e.g. 512k or 10g"
DURATION_FORM = "a duration such as 30s, 15m, 12h or 7d"


def parse_size(text: str) -> int:
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not {SIZE_FORM}")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def parse_duration(text: str) -> float:
    compact = text.strip().replace(" ", "")
    if not compact:
        raise ValueError(f"{text!r} is not {DURATION_FORM}")
    total = 0.0
    pos = 0
    for match in _DURATION_PART_RE.finditer(compact):
        if match.start() != pos:
            break
        unit = match.group(2) or "s"
        total += int(match.group(1)) * _DURATION_UNITS[unit]
        pos = match.end()
    if pos != len(compact):
        raise ValueError(f"{text!r} is not {DURATION_FORM}")
    return total


def format_size(value: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def format_size_setting(value: int) -> str:
    """A byte count as a setting would say it: 10737418240 -> "10g", 1536 -> "1536"."""
    for unit in ("t", "g", "m", "k"):
        if value and value % _SIZE_UNITS[unit] == 0:
            return f"{value // _SIZE_UNITS[unit]}{unit}"
    return str(value)


def format_duration(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= length and seconds % length == 0:
            return f"{int(seconds // length)}{unit}"
    if 0 < seconds < 1 and (seconds * 1000) % 1 == 0:
        return f"{int(seconds * 1000)}ms"
    return f"{seconds:g}s"
