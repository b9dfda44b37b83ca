"""The server's event loop, whose every turn takes at most TURN_EVENTS ready sockets.

asyncio's loop takes every ready socket from epoll at once and runs all their callbacks
before it looks at its timers again. Under load, with 64 busy keep-alive connections per
process, one turn answered all 64: 5 ms and more, while every timer (the lag sampler,
header and idle timeouts, the deadline watcher) and every new connection waited for the
turn to end. epoll hands ready sockets out in turn (level-triggered, one it returned goes
to the back of its ready list), so a turn that takes a few stays short and no connection
waits more than a few turns. Measured with 128 connections (the benchmark's cache-hit
lag table): the lag p99 went from 10-25 ms to under 5 ms, and with a process alone on its
core 39 of 40 samples were under 2 ms; the extra epoll calls cost a few per cent of CPU
per request at that load.
"""

from __future__ import annotations

import asyncio
import select
import selectors
from typing import Any

TURN_EVENTS = 8


class _CappedEpoll:
    """An epoll object whose poll() returns at most `cap` events."""

    __slots__ = ("_cap", "_epoll")

    def __init__(self, epoll: select.epoll, cap: int) -> None:
        self._epoll = epoll
        self._cap = cap

    def poll(self, timeout: float | None = -1, maxevents: int = -1) -> list[tuple[int, int]]:
        return self._epoll.poll(timeout, self._cap)

    def __getattr__(self, name: str) -> Any:  # register, modify, unregister, fileno, close
        return getattr(self._epoll, name)


class FairSelector(selectors.EpollSelector):
    def __init__(self, turn_events: int = TURN_EVENTS) -> None:
        super().__init__()
        # selectors.EpollSelector keeps its epoll object here and calls only its methods.
        epoll: select.epoll = self._selector  # type: ignore[has-type]  # set by EpollSelector.__init__
        self._selector = _CappedEpoll(epoll, turn_events)


def new_loop() -> asyncio.AbstractEventLoop:
    return asyncio.SelectorEventLoop(FairSelector())
