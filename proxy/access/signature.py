"""imgproxy URL signatures: HMAC-SHA256 over salt + path, base64url without padding.

Previews carry one as their first path segment; originals, conversions and video frames
carry one in their query (`proxy.access.signed_query`). Both are the same signature, with
the same keys, salts, rotation and size.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Sequence

from proxy.access.refusals import BadSignature, NoSignature

Pairs = Sequence[tuple[bytes, bytes]]


def sign(key: bytes, salt: bytes, path: str, size: int = 32) -> str:
    """The signature of `path` (everything after the signature segment, from its `/`)."""
    digest = hmac.new(key, salt + path.encode(), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify(
    signature: str,
    path: str,
    pairs: Pairs,
    size: int,
    trusted: Collection[str] = frozenset(),
) -> None:
    """Raise a refusal unless `signature` fits `path` under one of the key/salt pairs.

    Without any pair configured, any non-empty signature segment without a `:` passes:
    clients send `q`, `_` or `insecure` there. A `trusted` signature (imgproxy's
    IMGPROXY_TRUSTED_SIGNATURES) passes whatever the path.
    """
    if not signature or ":" in signature:
        raise NoSignature()
    if not pairs or signature in trusted:
        return
    given = signature.encode()
    # Every pair is tried, so the time taken does not tell which key came close.
    matched = False
    for key, salt in pairs:
        expected = sign(key, salt, path, size).encode()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise BadSignature()
