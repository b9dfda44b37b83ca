"""HTTP validators and ranges: ETag, Last-Modified, If-None-Match, If-Modified-Since, Range."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from aiohttp import web

from proxy.cache import Meta
from proxy.errors import RangeNotSatisfiable
from proxy.web.headers import quote_etag

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def _parse_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _etag_list(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def is_not_modified(request: web.BaseRequest, meta: Meta) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        return "*" in tags or quote_etag(meta.etag) in tags
    since = request.headers.get("If-Modified-Since")
    if since is not None and request.method in ("GET", "HEAD"):
        when = _parse_date(since)
        return when is not None and int(meta.last_modified) <= when
    return False


def _parse_range(request: web.BaseRequest) -> tuple[int | None, int | None] | None:
    """(first, last) of a single well-formed `bytes=` range; first is None for a suffix."""
    header = request.headers.get("Range")
    if header is None or request.method not in ("GET", "HEAD"):
        return None
    match = _RANGE_RE.match(header)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first = int(match.group(1)) if match.group(1) else None
    last = int(match.group(2)) if match.group(2) else None
    if first is not None and last is not None and last < first:
        return None  # syntactically invalid: ignore the header
    return first, last


def requested_range(request: web.BaseRequest, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) of a single satisfiable range, or None for the whole body.

    Malformed or multi-range headers are ignored (RFC 9110 allows serving the whole
    representation); a well-formed but unsatisfiable one raises RangeNotSatisfiable.
    """
    spec = _parse_range(request)
    if spec is None:
        return None
    first, last = spec
    if first is None:
        assert last is not None
        if last == 0:
            raise RangeNotSatisfiable(size=size)
        return max(size - last, 0), size - 1
    if first >= size:
        raise RangeNotSatisfiable(size=size)
    return first, size - 1 if last is None else min(last, size - 1)


def if_range_allows(request: web.BaseRequest, meta: Meta) -> bool:
    """A Range with a stale If-Range validator means "send me the whole thing"."""
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith('"'):
        return if_range == quote_etag(meta.etag)
    when = _parse_date(if_range)
    return when is not None and int(meta.last_modified) <= when


def byte_range_request(request: web.BaseRequest) -> tuple[int, int | None] | None:
    """The client's range before the size is known: (start, end) or (-n, None) for a suffix."""
    if request.method != "GET" or "If-Range" in request.headers:
        return None
    spec = _parse_range(request)
    if spec is None:
        return None
    first, last = spec
    if first is None:
        return (-last, None) if last else None
    return first, last
