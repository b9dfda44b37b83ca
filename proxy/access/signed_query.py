"""Signatures in the query string, for URLs whose path clients already know.

An original is `/<bucket>/<key>`, a conversion `/image-converter/...`: their paths stay as
they are, and the signature goes in the query, as nginx's `secure_link` and S3's presigned
URLs put theirs: `?exp=<unix seconds>&sig=<signature>`, `exp` optional. `sig` is imgproxy's
signature (`proxy.access.signature`) over the path as sent plus the query without `sig`, so
`/acme-private/secret.jpg?exp=1767225600` is signed as it stands, and `exp` (like any other
parameter) cannot be changed without breaking it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from proxy.access.refusals import BadSignature, Expired, NoSignature
from proxy.access.signature import Pairs, sign, verify

SIG = "sig"
EXP = "exp"
MEMO = 8192
MAX_EXP_DIGITS = 12  # past the year 33,000: anything longer is not a time


@dataclass(frozen=True)
class SignedParts:
    """A URL taken apart for its query signature."""

    signature: str | None
    signed: str  # what the signature covers: the path, and the query without `sig`
    expires: str | None  # the raw `exp` value, when there is one


def take_apart(raw_path: str, raw_query: str) -> SignedParts:
    """The signature, what it covers, and the expiry, of a still percent-encoded URL."""
    pairs = raw_query.split("&") if raw_query else []
    signatures = [p[len(SIG) + 1 :] for p in pairs if p.partition("=")[0] == SIG]
    if len(signatures) > 1:
        raise BadSignature("more than one signature")
    rest = [p for p in pairs if p.partition("=")[0] != SIG]
    expiries = [p[len(EXP) + 1 :] for p in rest if p.partition("=")[0] == EXP]
    if len(expiries) > 1:
        raise BadSignature("more than one exp")
    signed = raw_path + ("?" + "&".join(rest) if rest else "")
    return SignedParts(signatures[0] if signatures else None, signed, next(iter(expiries), None))


def expiry(raw: str) -> int:
    if not raw.isdigit() or not raw.isascii() or len(raw) > MAX_EXP_DIGITS:
        raise BadSignature("malformed exp: expected unix seconds")
    return int(raw)


class QuerySignatures:
    """Verifies `?exp=&sig=` against the configured keys (any of them: rotation).

    What a URL's signature says never changes, so it is worked out once per URL (a memo);
    only its expiry is held against the clock on every request, cached bytes or not.
    """

    def __init__(
        self,
        pairs: Pairs,
        size: int,
        trusted: Collection[str] = frozenset(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pairs = pairs
        self.size = size
        self.trusted = trusted
        self.clock = clock
        self._checked = functools.lru_cache(maxsize=MEMO)(self._check)

    def verify(self, raw_path: str, raw_query: str) -> None:
        expires = self._checked(raw_path, raw_query)
        if expires is not None and expires < self.clock():
            raise Expired()

    def _check(self, raw_path: str, raw_query: str) -> int | None:
        """The expiry of a URL whose signature holds (a refusal is raised, not memoised)."""
        parts = take_apart(raw_path, raw_query)
        if parts.signature is None:
            raise NoSignature()
        verify(parts.signature, parts.signed, self.pairs, self.size, self.trusted)
        return None if parts.expires is None else expiry(parts.expires)


def sign_query(raw_path: str, raw_query: str, key: bytes, salt: bytes, size: int) -> str:
    """The query of the signed URL: `raw_query` (any old `sig` dropped) plus `sig`."""
    parts = take_apart(raw_path, raw_query)
    _, _, query = parts.signed.partition("?")
    signature = sign(key, salt, parts.signed, size)
    return (query + "&" if query else "") + f"{SIG}={signature}"
