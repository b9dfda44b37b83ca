"""The one middleware: the request time limit, errors to short answers, what every answer
carries, metrics, the access log.

It wraps each route's handler where the route is added, rather than running as an aiohttp
middleware: aiohttp's chain adds a layer of its own to every request, and here the route
name is known once instead of worked out per request. The router has a catch-all route for
every method, so no request reaches aiohttp's own 404 or 405 answers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from proxy import metrics
from proxy.access import Guard
from proxy.web.access_log import AccessLog
from proxy.web.answers import Answer, answer_for
from proxy.web.cors import CrossOrigin
from proxy.web.deadline import Deadlines
from proxy.web.headers import CACHE_STATUS, NOSNIFF, Stamp
from proxy.web.ready import ReadyAnswer
from proxy.web.sent import SENT, Sent
from proxy.web.tally import RequestTally

log = logging.getLogger("proxy.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TIMED_OUT = Answer(504, "timed out", log_level=logging.WARNING)
GONE = 499  # nginx's status for a client that went away before its answer


def loggable_path(request: web.BaseRequest) -> str:
    """The path without its signature (in the path or the query), a credential of sorts."""
    url = request.rel_url
    return _unsigned(url.raw_path, url.raw_query_string)


_SIGNATURE_IN_QUERY = re.compile(r"(^|&)sig=[^&]*")


@functools.lru_cache(maxsize=1024)  # URLs are up to 8 KiB: bounded memory
def _unsigned(raw: str, query: str) -> str:
    if raw.startswith("/previews/"):
        head, _, rest = raw[len("/previews/") :].partition("/")
        if rest and ":" not in head and "," not in head:
            raw = "/previews/-/" + rest
    query = _SIGNATURE_IN_QUERY.sub(r"\1sig=-", query)
    return f"{raw}?{query}" if query else raw


class Middleware:
    def __init__(
        self, deadlines: Deadlines, tally: RequestTally, access_log: AccessLog | None, stamp: Stamp
    ) -> None:
        self.deadlines = deadlines
        self.tally = tally
        self.access_log = access_log
        self.stamp = stamp

    def wrap(
        self,
        route: str,
        handler: Handler,
        guard: Guard | None = None,
        cross_origin: CrossOrigin | None = None,
    ) -> Handler:
        """`guard`: the access rule's check, run first; what it refuses reads nothing.
        `cross_origin`: for image routes, whose errors a web app may read too."""
        deadlines, tally, stamp = self.deadlines, self.tally, self.stamp

        async def handle(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            task = asyncio.current_task()
            assert task is not None
            tally.begin()
            deadlines.track(task)
            response: web.StreamResponse | None = None
            refused: str | None = None
            try:
                try:
                    if guard is not None:
                        url = request.rel_url
                        await guard(
                            request.method, url.raw_path, url.raw_query_string, request.headers
                        )
                    response = await handler(request)
                except asyncio.CancelledError:
                    if not deadlines.expired(task):
                        raise  # the client went away, or the server is stopping
                    task.uncancel()
                    response = _short_answer(request, TIMED_OUT, None)
                except ConnectionError as exc:
                    # The connection broke while the answer was going out: nothing left to say
                    # (a client that left is not an error; a cut body has its warning).
                    log.debug("connection lost on %s: %s", loggable_path(request), exc)
                    if request.transport is not None:
                        request.transport.abort()
                    record = request.get(SENT)
                    response = record.response if record is not None else _gone()
                    return response
                except Exception as exc:
                    answer = answer_for(exc)
                    refused = answer.refusal
                    if refused is not None:
                        metrics.ACCESS_REFUSALS.labels(refused).inc()
                    response = _short_answer(request, answer, exc)
                if (
                    not isinstance(response, ReadyAnswer)
                    and not response.prepared
                    and NOSNIFF not in response.headers
                ):
                    stamp.apply(response.headers)  # answers not made by delivery
                    if cross_origin is not None:
                        response.headers.update(cross_origin.headers(request.headers.get("Origin")))
                return response
            finally:
                deadlines.release(task)
                elapsed = time.perf_counter() - started
                record = request.get(SENT)
                if record is not None and (response is None or response is record.response):
                    response = record.response  # its head went out: logged as it was sent
                status = GONE if response is None or response.status == GONE else response.status
                tally.end(route, status, elapsed)
                if self.access_log is not None:
                    self._log_access(request, response, status, elapsed, refused, record)

        return handle

    def _log_access(
        self,
        request: web.BaseRequest,
        response: web.StreamResponse | None,
        status: int,
        elapsed: float,
        refused: str | None,
        record: Sent | None,
    ) -> None:
        assert self.access_log is not None
        sent, cache, left = 0, "-", response is None or status == GONE
        if record is not None and response is record.response:
            sent, cache, left = (
                record.body_bytes,
                response.headers.get(CACHE_STATUS, "-"),
                record.left,
            )
        elif isinstance(response, ReadyAnswer):
            sent, cache = response.content_length or 0, response.cache_status
        elif response is not None:
            cache = response.headers.get(CACHE_STATUS, "-")
            if status != 304 and request.method != "HEAD":
                sent = response.content_length or 0
        self.access_log.record(
            request.method,
            loggable_path(request),
            status,
            sent,
            elapsed,
            cache,
            request.remote,
            refused,
            left,
        )


def _gone() -> web.Response:
    return web.Response(status=GONE)


def _short_answer(request: web.BaseRequest, answer: Answer, exc: Exception | None) -> web.Response:
    path = loggable_path(request)
    if answer.traceback:
        log.error("unhandled error on %s", path, exc_info=exc)
    elif exc is None or str(exc) == answer.reason:
        log.log(answer.log_level, "%d %s: %s", answer.status, path, answer.reason)
    else:
        log.log(answer.log_level, "%d %s: %s (%s)", answer.status, path, answer.reason, exc)
    return answer.response()
