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
    and for an uploaded file a browser would run (an SVG with a script, an HTML page), a
    sandbox, so nothing in it runs with the proxy's origin."""

    def __init__(self, node_name: str) -> None:
        self.fixed = {SERVED_BY: node_name, NOSNIFF: "nosniff"}

    def apply(self, headers: MutableMapping[str, str]) -> None:
        headers.update(self.fixed)
        if is_active(headers.get("Content-Type", "")):
            headers["Content-Security-Policy"] = "sandbox"


def is_active(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() in ACTIVE_TYPES


def content_disposition(name: str, *, attachment: bool) -> str:
    """RFC 6266: an ASCII fallback name for old clients, the exact name in `filename*`."""
    kind = "attachment" if attachment else "inline"
    fallback = _UNSAFE_IN_QUOTED.sub("_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
