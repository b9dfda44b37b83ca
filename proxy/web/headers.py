"""Response headers built from what the features decided: validators and file names.

Whatever ends up in a header may come from a URL or a key, so it is made safe here: a
header value never carries a control character, whatever the request said.
"""

from __future__ import annotations

import functools
import re
from collections.abc import MutableMapping
from email.utils import formatdate
from urllib.parse import quote

from proxy.cache import Meta

_UNSAFE_IN_QUOTED = re.compile(r'[^\x20-\x7e]|["\\]')
# Types a browser runs (scripts, markup that can hold scripts) when it opens them itself.
ACTIVE_TYPES = frozenset(
    {
        "image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml",
        "text/javascript", "application/javascript", "application/ecmascript",
        "text/ecmascript", "application/x-javascript", "text/xsl", "application/pdf",
    }
)  # fmt: skip


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


@functools.lru_cache(maxsize=4096)
def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def validator_headers(meta: Meta, status: str, cache_control: str) -> dict[str, str]:
    return {
        "ETag": quote_etag(meta.etag),
        "Last-Modified": http_date(meta.last_modified),
        "Cache-Control": cache_control,
        "X-Cache-Status": status,
    }


def protect(headers: MutableMapping[str, str]) -> None:
    """What every answer carries: no sniffing a type into another; and for an uploaded file
    a browser would run (an SVG with a script, an HTML page), a sandbox, so nothing in it
    runs with the proxy's origin."""
    headers["X-Content-Type-Options"] = "nosniff"
    content_type = headers.get("Content-Type", "")
    if content_type.partition(";")[0].strip().lower() in ACTIVE_TYPES:
        headers["Content-Security-Policy"] = "sandbox"


def content_disposition(name: str, *, attachment: bool) -> str:
    """RFC 6266: an ASCII fallback name for old clients, the exact name in `filename*`."""
    kind = "attachment" if attachment else "inline"
    fallback = _UNSAFE_IN_QUOTED.sub("_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
