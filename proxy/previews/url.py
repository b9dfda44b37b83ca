"""Splitting a preview path into signature, option segments, source and extension.

Three spellings reach the same renderer:
  <signature>/<options>/plain/<percent-encoded source>[@<ext>]
  <signature>/<options>/<base64url source, may be split by "/">[.<ext>]
  <W>x<H>,<fmt>,q<Q>/<source>            (legacy; "300x" = width only)
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from proxy.errors import BadRequest
from proxy.formats import canonical

_LEGACY_RE = re.compile(r"^(\d*)x(\d*),([a-zA-Z]+),q(\d{1,3})$")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class PreviewUrl:
    signature: str | None  # None for the legacy form, which has none
    signed_path: str  # what the signature covers: "/" + the rest of the raw path (+ query)
    options: tuple[str, ...]
    source: str  # decoded: "<bucket>/<key>" or "image-converter/..."
    query: tuple[tuple[str, str], ...]  # the source's query string
    extension: str | None


def _decode(raw: str, what: str) -> str:
    try:
        text = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not valid UTF-8") from None
    if "\x00" in text:
        raise BadRequest(f"NUL byte in {what}")
    return text


def _split_extension(text: str, mark: str) -> tuple[str, str | None]:
    """Split off `<mark><ext>` when `ext` names an output format; else it is part of the key."""
    head, sep, tail = text.rpartition(mark)
    if sep and head and canonical(tail):
        return head, canonical(tail)
    return text, None


def _query(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(text, keep_blank_values=True))


def _check_source(source: str) -> str:
    if not source:
        raise BadRequest("missing source")
    if _SCHEME_RE.match(source) or source.startswith("/"):
        raise BadRequest("only <bucket>/<key> or image-converter/... sources are served")
    return source


def _legacy(match: re.Match[str], rest: str, raw_query: str) -> PreviewUrl:
    width, height, fmt, quality = match.groups()
    source = _check_source(_decode(rest, "source"))
    options = (f"rs:fit:{width or 0}:{height or 0}", f"f:{fmt}", f"q:{quality}")
    return PreviewUrl(None, "", options, source, _query(raw_query), None)


def parse_url(raw_path: str, raw_query: str = "") -> PreviewUrl:
    """`raw_path` is the still percent-encoded path after `/previews/`."""
    head, _, rest = raw_path.partition("/")
    legacy = _LEGACY_RE.match(head)
    if legacy:
        return _legacy(legacy, rest, raw_query)
    signed_path = "/" + rest + (f"?{raw_query}" if raw_query else "")
    segments = rest.split("/")
    options: list[str] = []
    index = 0
    while index < len(segments) and ":" in segments[index]:
        options.append(_decode(segments[index], "option"))
        index += 1
    remaining = segments[index:]
    if remaining and remaining[0] == "plain":
        text, extension = _split_extension("/".join(remaining[1:]), "@")
        source = _check_source(_decode(text, "source"))
        query = _query(raw_query)
    else:
        encoded, extension = _split_extension("".join(remaining), ".")
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            decoded = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadRequest("source is not valid base64url") from None
        # Like imgproxy's, the encoded source is a URL: its path may be percent-encoded.
        path, _, query_text = decoded.partition("?")
        source = _check_source(_decode(path, "source"))
        query = _query(query_text)
    return PreviewUrl(head, signed_path, tuple(options), source, query, extension)
