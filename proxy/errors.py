"""Errors that are answers: each class carries its HTTP status and a short reason.

`reason` is what the client reads: short, and never a secret, an endpoint or a path on disk.
`str(error)` is the detail for the log line, which may say more. Every layer raises these
(the storage errors in `proxy.storage.errors` are subclasses), and the web layer turns any
of them into an answer in one place, without knowing which layer raised it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class ProxyError(Exception):
    status: ClassVar[int] = 500
    default_reason: ClassVar[str] = "internal error"
    # Set on what the access rule turns away: the reason it is counted and logged under.
    refusal: ClassVar[str | None] = None

    def __init__(
        self,
        reason: str | None = None,
        *,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.reason = reason or self.default_reason
        super().__init__(detail or self.reason)
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(ProxyError):
    status = 400
    default_reason = "bad request"


class Unauthorized(ProxyError):
    status = 401
    default_reason = "authentication required"


class Forbidden(ProxyError):
    status = 403
    default_reason = "forbidden"


class NotFound(ProxyError):
    status = 404
    default_reason = "not found"


class PayloadTooLarge(ProxyError):
    status = 413
    default_reason = "source file too large"


class UnsupportedMediaType(ProxyError):
    status = 415
    default_reason = "unsupported media type"


class RangeNotSatisfiable(ProxyError):
    """416; with the size known, the answer says it in `Content-Range: bytes */size`."""

    status = 416
    default_reason = "range not satisfiable"

    def __init__(
        self, reason: str | None = None, *, size: int | None = None, detail: str | None = None
    ) -> None:
        headers = {"Content-Range": f"bytes */{size}"} if size is not None and size >= 0 else {}
        super().__init__(reason, detail=detail, headers=headers)
        self.size = size


class Unprocessable(ProxyError):
    status = 422
    default_reason = "cannot process image"


class ServiceUnavailable(ProxyError):
    status = 503
    default_reason = "busy, retry later"


class CacheUnavailable(ServiceUnavailable):
    """The cache's disk or index failed: an operator problem, said as such, never a 500."""

    default_reason = "cache storage unavailable"


class GatewayTimeout(ProxyError):
    status = 504
    default_reason = "timed out"
