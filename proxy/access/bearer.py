"""A shared secret every request carries (imgproxy's IMGPROXY_SECRET), for a proxy that only
an application server should reach: `Authorization: Bearer <token>` (RFC 6750)."""

from __future__ import annotations

import hashlib
import hmac

from proxy.access.refusals import BadBearer, NoBearer


def _digest(token: str) -> bytes:
    # Compared as digests: equal lengths, so the comparison takes the same time for any guess.
    return hashlib.sha256(token.encode()).digest()


class Bearer:
    def __init__(self, token: str) -> None:
        self._expected = _digest(token)

    def check(self, authorization: str | None) -> None:
        scheme, _, given = (authorization or "").strip().partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            raise NoBearer()
        if not hmac.compare_digest(_digest(given), self._expected):
            raise BadBearer()
