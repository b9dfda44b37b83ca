"""Errors that become an HTTP answer: a status code and a short reason, never a traceback."""


class ProxyError(Exception):
    status = 500
    reason = "internal error"

    def __init__(self, reason: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason or self.reason)
        self.reason = reason or self.reason
        self.headers = headers or {}


class BadRequest(ProxyError):
    status = 400
    reason = "bad request"


class Forbidden(ProxyError):
    status = 403
    reason = "forbidden"


class NotFound(ProxyError):
    status = 404
    reason = "not found"


class PayloadTooLarge(ProxyError):
    status = 413
    reason = "source file too large"


class UnsupportedMediaType(ProxyError):
    status = 415
    reason = "unsupported media type"


class RangeNotSatisfiable(ProxyError):
    status = 416
    reason = "range not satisfiable"


class Unprocessable(ProxyError):
    status = 422
    reason = "cannot process image"


class BadGateway(ProxyError):
    status = 502
    reason = "storage error"


class ServiceUnavailable(ProxyError):
    status = 503
    reason = "busy, retry later"


class GatewayTimeout(ProxyError):
    status = 504
    reason = "timed out"
