"""imgproxy URL signatures: HMAC-SHA256 over salt + path, base64url without padding."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Sequence

from proxy.errors import Forbidden


def sign(key: bytes, salt: bytes, path: str, size: int = 32) -> str:
    """The signature of `path` (everything after the signature segment, from its `/`)."""
    digest = hmac.new(key, salt + path.encode(), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(
    signature: str,
    path: str,
    pairs: Sequence[tuple[bytes, bytes]],
    size: int,
    trusted: Collection[str] = frozenset(),
) -> None:
    """Raise Forbidden unless `signature` fits `path` under one of the key/salt pairs.

    Without any pair configured, any non-empty signature segment without a `:` passes:
    clients send `q`, `_` or `insecure` there. A `trusted` signature (imgproxy's
    IMGPROXY_TRUSTED_SIGNATURES) passes whatever the path.
    """
    if not signature or ":" in signature:
        raise Forbidden("missing signature")
    if not pairs or signature in trusted:
        return
    given = signature.encode()
    # Every pair is tried, so the time taken does not tell which key came close.
    matched = False
    for key, salt in pairs:
        expected = sign(key, salt, path, size).encode()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise Forbidden("invalid signature")
