"""Response headers built from what the features decided: validators and file names.

Whatever ends up in a header may come from a URL or a key, so it is made safe here: a
header value never carries a control character, whatever the request said.
"""

from __future__ import annotations

import functools
import re
from email.utils import formatdate
from urllib.parse import quote

from proxy.cache import Meta

_UNSAFE_IN_QUOTED = re.compile(r'[^\x20-\x7e]|["\\]')


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


def content_disposition(name: str, *, attachment: bool) -> str:
    """RFC 6266: an ASCII fallback name for old clients, the exact name in `filename*`."""
    kind = "attachment" if attachment else "inline"
    fallback = _UNSAFE_IN_QUOTED.sub("_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
