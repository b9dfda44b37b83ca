"""Connection hygiene: slow headers, idle keep-alives, clients that stop reading and floods
of sockets are closed.

aiohttp closes a connection that stays idle past its keep-alive timeout, armed once at
connect and after every answer. Here the first arming uses the header timeout instead (a
client that connects must send a complete request soon), the keep-alive timeout is the idle
timeout, and each server process holds at most `max_connections`: past that, the connection
idle the longest is closed to make room; when none is idle, the one that has taken nothing
of its answer for the longest (at least one check); else the new one is refused.

A connection with output waiting (in asyncio's buffer or the kernel's send queue) whose
client acknowledges nothing for `send_timeout` is cut, as nginx's `send_timeout` does: one
check per process a few times a second looks at the connections that are answering or have
output buffered, and reads the kernel's counts of their sockets (`socket_progress`).

This reaches into aiohttp's request handler and server (pinned to a version, see
pyproject.toml); tests/web/test_connections.py holds it to what it must do. `FAST` probes
those insides once (proxy/internals.py): when one is missing, the runner keeps aiohttp's own
server, with the idle timeout as its keep-alive timeout but no header timeout or cap.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from aiohttp import web, web_protocol, web_server

from proxy import metrics
from proxy.internals import Internal
from proxy.web.socket_progress import progress, reset, socket_of

_HANDLER_INSIDES = (
    "_keepalive_handle",
    "_next_keepalive_close_time",
    "_keepalive_timeout",
    "_request_in_progress",
    "_loop",
)


def _probe() -> str:
    if not callable(getattr(web.AppRunner, "_make_server", None)):
        return "aiohttp.web.AppRunner._make_server is missing"
    loop = asyncio.new_event_loop()
    try:
        server: Any = web_server.Server(_no_handler, loop=loop, keepalive_timeout=7.0)
        if getattr(server, "_kwargs", None) != {"keepalive_timeout": 7.0}:
            return "aiohttp.web_server.Server._kwargs is missing or holds otherwise"
        if not isinstance(getattr(server, "_connections", None), dict):
            return "aiohttp.web_server.Server._connections is missing"
        handler = server()
        for name in _HANDLER_INSIDES:
            if not hasattr(handler, name):
                return f"aiohttp.web_protocol.RequestHandler.{name} is missing"
        if not callable(getattr(handler, "_process_keepalive", None)):
            return "aiohttp.web_protocol.RequestHandler._process_keepalive is missing"
        if handler._keepalive_timeout != 7.0:
            return "aiohttp.web_protocol.RequestHandler keeps its keep-alive timeout otherwise"
    finally:
        loop.close()
    return ""


async def _no_handler(request: web.BaseRequest) -> web.StreamResponse:
    raise NotImplementedError  # the probe's server never serves


FAST = Internal(
    "connection_guard",
    _probe,
    "aiohttp's own server runs, idle keep-alives closed but no header timeout and no "
    "HTTP_MAX_CONNECTIONS cap",
)

log = logging.getLogger("proxy.web")


@dataclass(frozen=True)
class Guard:
    header_timeout: float
    idle_timeout: float
    max_connections: int
    send_timeout: float = 60.0

    @property
    def send_check_interval(self) -> float:
        return min(1.0, self.send_timeout / 4)


class GuardedHandler(web_protocol.RequestHandler):
    __slots__ = ("_header_timeout", "_last_progress", "_send_mark", "_waiting")

    def __init__(self, manager: web_server.Server, *, header_timeout: float, **kwargs: Any):
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._send_mark: tuple[int | None, int] | None = None
        self._last_progress = 0.0
        self._waiting = False  # output waits for the client (as of the last check)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # aiohttp armed its idle timer for the first request: the first request must come
        # within the header timeout instead. The timer fires at the sooner of the two and
        # re-arms itself for the close time in force then (after an answer, the idle one).
        if self._keepalive_handle is not None:
            self._keepalive_handle.cancel()
        now = self._loop.time()
        self._next_keepalive_close_time = now + self._header_timeout
        first = now + min(self._header_timeout, self._keepalive_timeout)
        self._keepalive_handle = self._loop.call_at(first, self._process_keepalive)

    @property
    def evictable(self) -> bool:
        """Open, and between requests (or still waiting for its first)."""
        return self.transport is not None and not self._request_in_progress

    def stalled_for(self, now: float) -> float:
        """Seconds its output has waited without the client taking a byte (0: none waits)."""
        transport = self.transport
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        if transport is None or (buffered == 0 and not self._request_in_progress):
            self._waiting, self._send_mark = False, None
            return 0.0
        counts = progress(socket_of(transport))
        if buffered == 0 and (counts is None or counts.queued == 0):
            self._waiting, self._send_mark = False, None  # the client has all it was given
            return 0.0
        mark = (counts.acked if counts is not None else None, buffered)
        if mark != self._send_mark or not self._waiting:
            self._waiting, self._send_mark, self._last_progress = True, mark, now
            return 0.0
        return now - self._last_progress

    def stalled_since_check(self, now: float) -> float:
        """How long it has been stalled, as the checks saw it (no system call)."""
        return now - self._last_progress if self._waiting and self.transport is not None else 0.0


class GuardedServer(web_server.Server):
    def __init__(
        self,
        *args: Any,
        guard: Guard,
        transports: weakref.WeakSet[asyncio.BaseTransport],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard
        self.transports = transports
        self._send_check: asyncio.TimerHandle | None = None

    def __call__(self) -> GuardedHandler:
        return GuardedHandler(
            self, loop=self._loop, header_timeout=self.guard.header_timeout, **self._kwargs
        )

    def connection_made(
        self, handler: web_protocol.RequestHandler, transport: asyncio.Transport
    ) -> None:
        super().connection_made(handler, transport)
        self.transports.add(transport)
        metrics.HTTP_CONNECTIONS.inc()
        if self._send_check is None:
            self._send_check = self._loop.call_later(
                self.guard.send_check_interval, self._check_sends
            )
        if len(self._connections) <= self.guard.max_connections:
            return
        # Some may be closing already (they stay listed until their task ends).
        open_ = [h for h in self._connections if h.transport is not None]
        if len(open_) <= self.guard.max_connections:
            return
        for other in open_:  # oldest first
            if other is not handler and isinstance(other, GuardedHandler) and other.evictable:
                metrics.HTTP_CONNECTIONS_SHED.labels("idle_evicted").inc()
                other.force_close()
                return
        now, interval = self._loop.time(), self.guard.send_check_interval
        stalled = [
            (other.stalled_since_check(now), other)
            for other in open_
            if other is not handler and isinstance(other, GuardedHandler)
        ]
        longest, worst = max(stalled, key=lambda pair: pair[0], default=(0.0, None))
        if worst is not None and longest >= interval and worst.transport is not None:
            metrics.HTTP_CONNECTIONS_SHED.labels("stalled_evicted").inc()
            log.info("evicting a connection that took nothing for %.1fs", longest)
            reset(worst.transport)
            return
        metrics.HTTP_CONNECTIONS_SHED.labels("refused").inc()
        handler.force_close()
        transport.close()

    def _check_sends(self) -> None:
        now, timeout = self._loop.time(), self.guard.send_timeout
        for handler in list(self._connections):
            if not isinstance(handler, GuardedHandler):
                continue
            stalled = handler.stalled_for(now)
            if stalled >= timeout and handler.transport is not None:
                peer = handler.transport.get_extra_info("peername")
                log.warning(
                    "send timeout: %s took nothing of its answer for %.1fs; disconnected",
                    peer[0] if isinstance(peer, tuple) else peer,
                    stalled,
                )
                metrics.HTTP_CONNECTIONS_SHED.labels("send_timeout").inc()
                reset(handler.transport)
        self._send_check = (
            self._loop.call_later(self.guard.send_check_interval, self._check_sends)
            if self._connections
            else None
        )

    def connection_lost(
        self, handler: web_protocol.RequestHandler, exc: BaseException | None = None
    ) -> None:
        if handler in self._connections:
            metrics.HTTP_CONNECTIONS.dec()
        super().connection_lost(handler, exc)


class GuardedRunner(web.AppRunner):
    def __init__(self, app: web.Application, *, guard: Guard, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=guard.idle_timeout, **kwargs)
        self.guard = guard
        # Every connection's transport, kept past the runner's cleanup: their last buffered
        # bytes are flushed before the process exits (proxy.web.drain).
        self.transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()

    async def _make_server(self) -> web_server.Server:
        plain = await super()._make_server()  # the app's start-up runs here
        if not FAST.usable:
            return plain
        return GuardedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            guard=self.guard,
            transports=self.transports,
            **plain._kwargs,
        )
