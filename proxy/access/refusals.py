"""What the access rule answers when it turns a request away, one class per reason.

Each carries its status and the reason it is counted under (`proxy_access_refusals_total`)
and logged with; none says whether the object asked for exists. A refusal depends on who
asked, so no cache in front may keep it (`no-store`).
"""

from __future__ import annotations

from collections.abc import Mapping

from proxy.errors import Forbidden, ServiceUnavailable, Unauthorized

NOT_STORED = {"Cache-Control": "no-store"}
# How long a client should wait before asking again while the auth service fails.
AUTH_RETRY_AFTER = "5"


def _headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**NOT_STORED, **(extra or {})}


class _SignatureRefusal(Forbidden):
    def __init__(self, reason: str | None = None, *, detail: str | None = None) -> None:
        super().__init__(reason, detail=detail, headers=_headers())


class NoSignature(_SignatureRefusal):
    refusal = "no_signature"
    default_reason = "missing signature"


class BadSignature(_SignatureRefusal):
    refusal = "bad_signature"
    default_reason = "invalid signature"


class Expired(_SignatureRefusal):
    refusal = "expired"
    default_reason = "expired"


class AuthDeniedForbidden(_SignatureRefusal):
    """The auth service answered 403."""

    refusal = "auth_denied"
    default_reason = "access denied"


class NoBearer(Unauthorized):
    refusal = "no_bearer"
    default_reason = "bearer token required"

    def __init__(self) -> None:
        super().__init__(headers=_headers({"WWW-Authenticate": "Bearer"}))


class BadBearer(Unauthorized):
    refusal = "bad_bearer"
    default_reason = "invalid bearer token"

    def __init__(self) -> None:
        challenge = 'Bearer error="invalid_token"'
        super().__init__(headers=_headers({"WWW-Authenticate": challenge}))


class AuthDeniedUnauthorized(Unauthorized):
    """The auth service answered 401: passed on, with its challenge when it gave one."""

    refusal = "auth_denied"

    def __init__(self, challenge: str | None) -> None:
        extra = {"WWW-Authenticate": challenge} if challenge else None
        super().__init__(headers=_headers(extra))


class AuthUnavailable(ServiceUnavailable):
    """The auth service failed, was slow or answered what it must not: never an allow."""

    refusal = "auth_unavailable"
    default_reason = "auth service unavailable, retry later"

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, headers=_headers({"Retry-After": AUTH_RETRY_AFTER}))
