"""Typed storage failures; each maps to one HTTP status in the web layer."""


class StorageError(Exception):
    """Base of every storage failure; `kind` labels the error metric and the log line."""

    kind = "error"
    transient = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class ObjectMissing(StorageError):
    kind = "not_found"


class InvalidKey(StorageError):
    kind = "invalid_key"


class AccessDenied(StorageError):
    """The store refused our credentials: an operator problem, not the client's."""

    kind = "access_denied"


class Unavailable(StorageError):
    kind = "unavailable"
    transient = True


class StorageTimeout(StorageError):
    kind = "timeout"
    transient = True
