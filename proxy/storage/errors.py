"""Typed storage failures. Each is a ProxyError with its own status; `kind` labels metrics.

The message (`str(error)`) names the object and what the store said, for the log; the
client gets only the class's short reason.
"""

from __future__ import annotations

from typing import ClassVar

from proxy.errors import ProxyError


class StorageError(ProxyError):
    """Base of every storage failure."""

    status = 502
    default_reason = "storage error"
    kind: ClassVar[str] = "error"
    transient: bool = False

    def __init__(self, detail: str, *, transient: bool | None = None) -> None:
        super().__init__(detail=detail)
        if transient is not None:
            self.transient = transient


class ObjectMissing(StorageError):
    status = 404
    default_reason = "not found"
    kind = "not_found"


class InvalidKey(StorageError):
    """A key no provider could hold, or one that tries to leave its bucket: the client's fault."""

    status = 400
    default_reason = "invalid key"
    kind = "invalid_key"


class AccessDenied(StorageError):
    """The store refused our credentials: an operator problem, not the client's."""

    default_reason = "storage refused the proxy's credentials"
    kind = "access_denied"


class Unavailable(StorageError):
    default_reason = "storage unavailable"
    kind = "unavailable"
    transient = True


class StorageTimeout(StorageError):
    status = 504
    default_reason = "storage timed out"
    kind = "timeout"
    transient = True


# Failures that say something about the request, not about the store's health.
CLIENT_KINDS = frozenset({"not_found", "invalid_key", "range"})
