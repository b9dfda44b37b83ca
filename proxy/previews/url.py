"""Splitting a preview path into signature, option segments, source and extension.

Three spellings reach the same renderer:
  <signature>/<options>/plain/<percent-encoded source>[@<ext>]
  <signature>/<options>/<base64url source, may be split by "/">[.<ext>]
  <W>x<H>,<fmt>,q<Q>/<source>            (legacy; "300x" = width only)

As imgproxy (handlers/path.go, options/parser/url.go): `%3A` in the options part is a
`:` (CDNs encode it), a leading empty segment is dropped, option arguments are never
percent-decoded, and the signature covers the path in that normalised form.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from proxy.errors import BadRequest
from proxy.formats import canonical, url_format
from proxy.previews.options import RESIZING_TYPES

_LEGACY_RE = re.compile(r"^(\d*)x(\d*),([a-zA-Z]+),q(\d{1,3})$")
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ENCODED_COLON = re.compile("%3A", re.IGNORECASE)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
PLAIN = "plain"


@dataclass(frozen=True)
class PreviewUrl:
    signature: str | None  # None for the legacy form, which has none
    signed_path: str  # what the signature covers: "/" + the normalised rest (+ query)
    options: tuple[str, ...]
    source: str  # decoded: "<bucket>/<key>" or "image-converter/..."
    query: tuple[tuple[str, str], ...]  # the source's query string
    extension: str | None


def _decode(raw: str, what: str) -> str:
    if _BAD_ESCAPE.search(raw):
        raise BadRequest(f"{what} has a malformed %-escape")
    try:
        text = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} is not valid UTF-8") from None
    if "\x00" in text:
        raise BadRequest(f"NUL byte in {what}")
    return text


def _split_extension(text: str, mark: str) -> tuple[str, str | None]:
    """imgproxy's rule: one `<mark><ext>` at most; `ext` must name a format; empty is none."""
    head, *tails = text.split(mark)
    if len(tails) > 1:
        raise BadRequest(f"more than one '{mark}': multiple formats are specified")
    if not tails or not tails[0]:
        return head, None
    fmt = "best" if tails[0] == "best" else url_format(tails[0])
    if fmt is None:
        raise BadRequest(f"unknown format {tails[0]!r} after '{mark}'")
    return head, fmt


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
    options = (f"rs:fit:{width or 0}:{height or 0}", f"f:{canonical(fmt) or fmt}", f"q:{quality}")
    return PreviewUrl(None, "", options, source, _query(raw_query), None)


def normalise(rest: str) -> str:
    """imgproxy's RedenormalizePath: `%3A` is `:` before `/plain/`; no leading slash."""
    if rest.startswith(PLAIN + "/"):
        return rest
    options, sep, plain = rest.partition(f"/{PLAIN}/")
    return (_ENCODED_COLON.sub(":", options) + sep + plain).lstrip("/")


def _plain(
    segments: list[str], raw_query: str
) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
    text, extension = _split_extension("/".join(segments), "@")
    # A decoded `?` starts the source's query (imgproxy hands it to the origin as one).
    path, _, query = _decode(text, "source").partition("?")
    pairs = _query(query) + _query(raw_query)
    return _check_source(path), pairs, extension


def _base64(segments: list[str]) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
    encoded, extension = _split_extension("".join(segments), ".")
    encoded = encoded.rstrip("=")
    try:
        if not _BASE64URL.fullmatch(encoded):
            raise ValueError
        padded = encoded + "=" * (-len(encoded) % 4)
        decoded = base64.urlsafe_b64decode(padded).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("source is not valid base64url") from None
    # Like imgproxy's, the encoded source is a URL: its path may be percent-encoded.
    path, _, query = decoded.partition("?")
    return _check_source(_decode(path, "source")), _query(query), extension


def parse_url(raw_path: str, raw_query: str = "") -> PreviewUrl:
    """`raw_path` is the still percent-encoded path after `/previews/`."""
    head, _, rest = raw_path.partition("/")
    legacy = _LEGACY_RE.match(head)
    if legacy:
        return _legacy(legacy, rest, raw_query)
    rest = normalise(rest)
    signed_path = "/" + rest + (f"?{raw_query}" if raw_query else "")
    segments = rest.split("/")
    index = 0
    while index < len(segments) and (":" in segments[index] or segments[index] == "-"):
        index += 1
    options, remaining = tuple(segments[:index]), segments[index:]
    if remaining and remaining[0] in RESIZING_TYPES:
        raise BadRequest("imgproxy's deprecated basic URL format is not supported")
    if len(remaining) > 1 and remaining[0] == PLAIN:
        source, query, extension = _plain(remaining[1:], raw_query)
    else:
        source, query, extension = _base64(remaining)
    return PreviewUrl(head, signed_path, options, source, query, extension)
