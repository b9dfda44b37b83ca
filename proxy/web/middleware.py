"""Cross-cutting request handling: errors to short answers, time limit, access log, metrics."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from proxy import metrics
from proxy.errors import ProxyError
from proxy.storage import StorageError
from proxy.storage.ranges import RangeNotSatisfiable
from proxy.web.deadline import DEADLINES
from proxy.web.drain import remember

log = logging.getLogger("proxy.web")
access_log = logging.getLogger("proxy.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOCAL_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES}

STORAGE_STATUS = {
    "not_found": (404, "not found"),
    "invalid_key": (400, "invalid key"),
    "access_denied": (502, "storage refused the proxy's credentials"),
    "unavailable": (502, "storage unavailable"),
    "timeout": (504, "storage timed out"),
    "range": (416, "range not satisfiable"),
}


def route_name(request: web.BaseRequest) -> str:
    path = request.path
    if path.startswith("/previews/"):
        return "preview"
    if path.startswith("/image-converter/"):
        return "image_converter"
    if path in ("/health", "/metrics"):
        return path[1:]
    return "original"


def loggable_path(request: web.BaseRequest) -> str:
    """The path without the preview signature, which is a credential of sorts."""
    raw = request.rel_url.raw_path
    if raw.startswith("/previews/"):
        head, _, rest = raw[len("/previews/") :].partition("/")
        if rest and ":" not in head and "," not in head:
            raw = "/previews/-/" + rest
    query = request.rel_url.raw_query_string
    return f"{raw}?{query}" if query else raw


def error_response(status: int, reason: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=reason + "\n", headers=headers)


def make_middlewares(request_timeout: float, access_log_on: bool) -> list:  # type: ignore[type-arg]
    @web.middleware
    async def handle(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = route_name(request)
        metrics.HTTP_IN_FLIGHT.inc()
        response: web.StreamResponse | None = None
        task = asyncio.current_task()
        assert task is not None
        deadlines = request.app[DEADLINES]
        remember(request)
        try:
            try:
                deadlines.track(task)
                try:
                    response = await handler(request)
                finally:
                    deadlines.release(task)
            except asyncio.CancelledError:
                if not deadlines.expired(task):
                    raise  # the client went away, or the server is stopping
                task.uncancel()
                response = error_response(504, "timed out")
                log.warning("timed out after %gs: %s", request_timeout, loggable_path(request))
            except ProxyError as exc:
                response = error_response(exc.status, exc.reason, exc.headers)
                log.info("%d %s: %s", exc.status, loggable_path(request), exc.reason)
            except RangeNotSatisfiable as exc:
                response = error_response(
                    416, "range not satisfiable", {"Content-Range": f"bytes */{exc.size}"}
                )
            except StorageError as exc:
                status, reason = STORAGE_STATUS.get(exc.kind, (502, "storage error"))
                response = error_response(status, reason)
                log.info("%d %s: %s", status, loggable_path(request), exc.kind)
            except web.HTTPException as exc:
                headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
                response = error_response(exc.status, exc.reason.lower(), headers)
            except ConnectionResetError:
                raise
            except OSError as exc:
                if exc.errno in LOCAL_DISK_ERRORS:
                    # The cache disk is full or failing: say so, don't pretend it's a bug.
                    log.error("cache disk error on %s: %s", loggable_path(request), exc.strerror)
                    response = error_response(503, "cache storage unavailable")
                else:
                    log.exception("unhandled error on %s", loggable_path(request))
                    response = error_response(500, "internal error")
            except Exception:
                # A bug: the log gets the traceback, the client only a short line.
                log.exception("unhandled error on %s", loggable_path(request))
                response = error_response(500, "internal error")
            return response
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            status = response.status if response is not None else 499
            metrics.HTTP_REQUESTS.labels(route, str(status)).inc()
            metrics.HTTP_DURATION.labels(route).observe(elapsed)
            if access_log_on:
                _log_access(request, response, status, elapsed)

    return [handle]


def _log_access(
    request: web.BaseRequest, response: web.StreamResponse | None, status: int, elapsed: float
) -> None:
    sent = 0
    cache = "-"
    if response is not None:
        cache = response.headers.get("X-Cache-Status", "-")
        sent = (
            0
            if response.status == 304 or request.method == "HEAD"
            else (response.content_length or 0)
        )
    access_log.info(
        json.dumps(
            {
                "method": request.method,
                "path": loggable_path(request),
                "status": status,
                "bytes": sent,
                "ms": round(elapsed * 1000, 2),
                "cache": cache,
                "remote": request.remote,
            },
            separators=(",", ":"),
        )
    )
