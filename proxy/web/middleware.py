"""The one middleware: the request time limit, errors to short answers, metrics, access log."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from proxy import metrics
from proxy.web.access_log import AccessLog
from proxy.web.answers import Answer, answer_for
from proxy.web.deadline import Deadlines
from proxy.web.drain import remember

log = logging.getLogger("proxy.web")


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


class Observer:
    """Per request: the request metrics, through children bound once per label set (a
    `labels()` lookup per request cost more than the increment), and the access log line."""

    def __init__(self, access_log: AccessLog | None) -> None:
        self.access_log = access_log
        self._counts: dict[tuple[str, int], Any] = {}
        self._durations: dict[str, Any] = {}

    def __call__(
        self, request: web.BaseRequest, response: web.StreamResponse | None, elapsed: float
    ) -> None:
        route = route_name(request)
        status = response.status if response is not None else 499
        count = self._counts.get((route, status))
        if count is None:
            count = self._counts[(route, status)] = metrics.HTTP_REQUESTS.labels(route, str(status))
        count.inc()
        duration = self._durations.get(route)
        if duration is None:
            duration = self._durations[route] = metrics.HTTP_DURATION.labels(route)
        duration.observe(elapsed)
        if self.access_log is not None:
            sent, cache = 0, "-"
            if response is not None:
                cache = response.headers.get("X-Cache-Status", "-")
                if status != 304 and request.method != "HEAD":
                    sent = response.content_length or 0
            self.access_log.record(
                request.method, loggable_path(request), status, sent, elapsed, cache, request.remote
            )


def make_middleware(deadlines: Deadlines, observe: Observer) -> Middleware:
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
            observe(request, response, time.perf_counter() - started)

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
