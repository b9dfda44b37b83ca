"""Response headers: validators, file names, and what every answer carries.

Whatever ends up in a header may come from a URL or a key, so it is made safe here: a
header value never carries a control character, whatever the request said.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from email.utils import formatdate
from urllib.parse import quote

_UNSAFE_IN_QUOTED = re.compile(r'[^\x20-\x7e]|["\\]')
# Types a browser shows inline: images, audio and video. Opened directly, each becomes a
# document of the browser's own (an image or media viewer) with nothing of the file run.
# SVG is an image too, but one that can hold scripts: it stays inline for <img> and for a
# look, and the sandbox every answer carries keeps its scripts from running.
INLINE_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/apng", "image/gif", "image/webp", "image/avif",
        "image/jxl", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon", "image/tiff",
        "image/heic", "image/heif", "image/svg+xml",
        "video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-matroska",
        "audio/mpeg", "audio/mp4", "audio/ogg", "audio/webm", "audio/wav", "audio/flac",
        "application/json",  # /info's answers: shown as text, never run (nosniff)
    }
)  # fmt: skip
# On every answer, whatever its type: nothing in it runs with the proxy's origin, nor loads
# anything. An image or a video opened directly still shows (the browser's own viewer loads
# the document's own URL, which no policy blocks; tests/browser/ checks it in Chromium).
SANDBOX = "sandbox; default-src 'none'"
SANDBOX_HEADER = "Content-Security-Policy"


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


CACHE_STATUS = "X-Cache-Status"


def validator_headers(
    etag: str, last_modified: float, status: str, cache_control: str
) -> dict[str, str]:
    return {
        "ETag": quote_etag(etag),
        "Last-Modified": formatdate(last_modified, usegmt=True),
        "Cache-Control": cache_control,
        CACHE_STATUS: status,
    }


SERVED_BY = "X-Served-By"  # names the node that answered: a cluster's routing, seen from any client
NOSNIFF = "X-Content-Type-Options"


class Stamp:
    """What every answer carries: the node that answered; no sniffing a type into another;
    and a sandbox, so that nothing in it runs with the proxy's origin (a deny-list of the
    types a browser runs is one type away from a hole: every browser has its own rule, and
    an uploader may set any type on an object)."""

    def __init__(self, node_name: str) -> None:
        self.fixed = {SERVED_BY: node_name, NOSNIFF: "nosniff", SANDBOX_HEADER: SANDBOX}

    def apply(self, headers: MutableMapping[str, str]) -> None:
        headers.update(self.fixed)

    def apply_body(self, headers: MutableMapping[str, str]) -> None:
        """For a stored body: a type a browser does not show inline is a download."""
        self.apply(headers)
        if not is_inline(headers.get("Content-Type", "")):
            headers["Content-Disposition"] = "attachment"


def is_inline(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() in INLINE_TYPES


def content_disposition(name: str, *, attachment: bool) -> str:
    """RFC 6266: an ASCII fallback name for old clients, the exact name in `filename*`."""
    kind = "attachment" if attachment else "inline"
    fallback = _UNSAFE_IN_QUOTED.sub("_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
