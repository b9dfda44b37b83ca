"""`python -m proxy sign URL [--expires 1h]`: a URL signed with this deployment's first key.

Previews (`/previews/<signature>/...`) get their signature segment; an expiry becomes their
`exp:` option (imgproxy's, so an expired preview URL is a 404, as imgproxy answers). Every
other route keeps its path and gets `?exp=<unix seconds>&sig=<signature>` in its query.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit, urlunsplit

from proxy.access.signature import sign
from proxy.access.signed_query import EXP, sign_query
from proxy.errors import ProxyError
from proxy.previews.url import parse_url
from proxy.settings import Settings

PREVIEWS = "/previews/"
URL_SAFE = "/%:@!$&'()*+,;=?-._~"  # RFC 3986's reserved and unreserved characters, and '%'


class CannotSign(Exception):
    """The URL or the settings do not allow a signature; the message says why."""


def signed_url(url: str, settings: Settings, expires_in: float | None = None) -> str:
    pairs = settings.previews.signature_pairs
    if not pairs:
        raise CannotSign("SIGNATURE_KEY and SIGNATURE_SALT are not set: nothing to sign with")
    key, salt = pairs[0]
    size = settings.previews.signature_size
    parts = urlsplit(url)
    # Signed as a client will send it: what cannot stand in a URL as is (a space, non-ASCII)
    # percent-encoded, the escapes already there kept.
    path, query = quote(parts.path or "/", safe=URL_SAFE), quote(parts.query, safe=URL_SAFE)
    expires = None if expires_in is None else int(time.time() + expires_in)
    if path.startswith(PREVIEWS):
        path = _signed_preview(path[len(PREVIEWS) :], query, key, salt, size, expires)
    else:
        if expires is not None:
            kept = [p for p in query.split("&") if p and p.partition("=")[0] != EXP]
            query = "&".join([*kept, f"{EXP}={expires}"])
        query = sign_query(path, query, key, salt, size)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _signed_preview(
    rest: str, query: str, key: bytes, salt: bytes, size: int, expires: int | None
) -> str:
    _, _, after_signature = rest.partition("/")
    try:
        url = parse_url(rest, query)
        if url.signature is None:
            raise CannotSign("a legacy preview URL (WxH,fmt,qQ) cannot carry a signature")
        if expires is not None:
            if any(o.partition(":")[0] in ("exp", "expires") for o in url.options):
                raise CannotSign("the URL has an expires option of its own: drop it or --expires")
            after_signature = f"exp:{expires}/{after_signature}"
            url = parse_url(f"-/{after_signature}", query)
    except ProxyError as exc:
        raise CannotSign(f"not a preview URL: {exc.reason}") from None
    return f"{PREVIEWS}{sign(key, salt, url.signed_path, size)}/{after_signature}"
