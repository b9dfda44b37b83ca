"""The one middleware: the request time limit, errors to short answers, metrics, access log."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from proxy import metrics
from proxy.web.answers import Answer, answer_for
from proxy.web.deadline import Deadlines
from proxy.web.drain import remember

log = logging.getLogger("proxy.web")
access_log = logging.getLogger("proxy.access")


TIMED_OUT = Answer(504, "timed out", log_level=logging.WARNING)


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


def make_middleware(deadlines: Deadlines, access_log_on: bool) -> Middleware:
    @web.middleware
    async def handle(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        metrics.HTTP_IN_FLIGHT.inc()
        remember(request)
        response: web.StreamResponse | None = None
        try:
            response = await _answer(request, handler, deadlines)
            return response
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            _observe(request, response, time.perf_counter() - started, access_log_on)

    return handle


async def _answer(
    request: web.Request, handler: Handler, deadlines: Deadlines
) -> web.StreamResponse:
    """The handler's response, or the short answer for whatever it raised."""
    try:
        return await _within_deadline(request, handler, deadlines)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is None or not deadlines.expired(task):
            raise  # the client went away, or the server is stopping
        task.uncancel()
        answer = TIMED_OUT
    except ConnectionResetError:
        raise
    except Exception as exc:
        answer = answer_for(exc)
        _log_error(request, answer, exc)
        return answer.response()
    _log_error(request, answer, None)
    return answer.response()


async def _within_deadline(
    request: web.Request, handler: Handler, deadlines: Deadlines
) -> web.StreamResponse:
    task = asyncio.current_task()
    assert task is not None
    deadlines.track(task)
    try:
        return await handler(request)
    finally:
        deadlines.release(task)


def _log_error(request: web.BaseRequest, answer: Answer, exc: Exception | None) -> None:
    path = loggable_path(request)
    if answer.traceback:
        log.error("unhandled error on %s", path, exc_info=exc)
    elif exc is None or str(exc) == answer.reason:
        log.log(answer.log_level, "%d %s: %s", answer.status, path, answer.reason)
    else:
        log.log(answer.log_level, "%d %s: %s (%s)", answer.status, path, answer.reason, exc)


def _observe(
    request: web.BaseRequest, response: web.StreamResponse | None, elapsed: float, log_on: bool
) -> None:
    route = route_name(request)
    status = response.status if response is not None else 499
    metrics.HTTP_REQUESTS.labels(route, str(status)).inc()
    metrics.HTTP_DURATION.labels(route).observe(elapsed)
    if log_on:
        _log_access(request, response, status, elapsed)


def _log_access(
    request: web.BaseRequest, response: web.StreamResponse | None, status: int, elapsed: float
) -> None:
    sent = 0
    cache = "-"
    if response is not None:
        cache = response.headers.get("X-Cache-Status", "-")
        if response.status != 304 and request.method != "HEAD":
            sent = response.content_length or 0
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
