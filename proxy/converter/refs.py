"""Parsing converter paths into canonical `SourceRef`s.

`convert/<bucket>/<key>` and `videoframe/<pos>/<bucket>/<key>`, plus the query parameters
`format` and `videoStreamIndex`. Equivalent spellings (`33p` / `33.0p`, no stream index / `0`)
give equal refs, so they share one cache entry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from proxy.errors import BadRequest, NotFound, RangeNotSatisfiable
from proxy.formats import canonical
from proxy.sources import SourceRef

CONVERT = "convert"
VIDEOFRAME = "videoframe"
OUTPUT_FORMATS = frozenset({"png", "jpeg", "webp"})
MAX_STREAM_INDEX = 64

_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_PERCENT = re.compile(_NUMBER + r"p")
_SECONDS = re.compile(_NUMBER + r"s")
_FRAME = re.compile(r"\d+")


@dataclass(frozen=True)
class Position:
    """Where in a video: `unit` is "p" (percent of duration), "s" (seconds) or "f" (frame)."""

    unit: str
    value: float

    def __str__(self) -> str:
        if self.unit == "f":
            return str(int(self.value))
        return f"{_plain(self.value)}{self.unit}"


def _plain(value: float) -> str:
    """A number without exponent or trailing zeros: 33.0 -> "33", 1.50 -> "1.5"."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_position(text: str) -> Position:
    if match := _PERCENT.fullmatch(text):
        value = float(match.group(1))
        if value > 100:
            raise RangeNotSatisfiable(f"position {text} is past the end of the video")
        return Position("p", value)
    if match := _SECONDS.fullmatch(text):
        value = float(match.group(1))
        if not math.isfinite(value):
            raise BadRequest(f"bad video position {text!r}")
        return Position("s", value)
    if _FRAME.fullmatch(text) and len(text) <= 12:
        return Position("f", float(int(text)))
    raise BadRequest(f"bad video position {text!r}: expected 33p, 120 (a frame) or 2.5s")


def parse_format(query: Mapping[str, str]) -> str | None:
    raw = query.get("format")
    if raw is None or raw == "":
        return None
    fmt = canonical(raw)
    if fmt is None or fmt not in OUTPUT_FORMATS:
        raise BadRequest(f"bad format {raw!r}: expected png, jpeg or webp")
    return fmt


def parse_stream_index(query: Mapping[str, str]) -> int:
    raw = query.get("videoStreamIndex", "") or "0"
    if not raw.isdigit() or int(raw) > MAX_STREAM_INDEX:
        raise BadRequest(f"bad videoStreamIndex {raw!r}: expected 0-{MAX_STREAM_INDEX}")
    return int(raw)


def _split_object(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise NotFound("not found")
    if "\x00" in key:
        raise BadRequest("NUL byte in key")
    return bucket, key


def parse(path: str, query: Mapping[str, str]) -> SourceRef:
    """`path` is the decoded part after `image-converter/`; unknown query keys are ignored."""
    kind, _, rest = path.partition("/")
    fmt = parse_format(query)
    args: list[tuple[str, str]] = [("format", fmt)] if fmt else []
    if kind == CONVERT:
        bucket, key = _split_object(rest)
    elif kind == VIDEOFRAME:
        pos_text, _, rest = rest.partition("/")
        position = parse_position(pos_text)
        bucket, key = _split_object(rest)
        args += [("pos", str(position)), ("videoStreamIndex", str(parse_stream_index(query)))]
    else:
        raise NotFound(f"unknown image-converter operation {kind!r}")
    return SourceRef(bucket, key, kind, tuple(sorted(args)))


def position_of(ref: SourceRef) -> Position:
    return parse_position(dict(ref.args)["pos"])


def format_of(ref: SourceRef) -> str | None:
    return dict(ref.args).get("format")


def stream_index_of(ref: SourceRef) -> int:
    return int(dict(ref.args).get("videoStreamIndex", "0"))
