"""One fill of one key in this process, shared by every request of this process that wants it.

A flight is always in exactly one phase, and each phase holds what belongs to it:

    Making ----> Streaming ----> Committed
      |  \\           |
      |   `----------+-------> Failed
      `--> Handoff (too large to cache: the stream goes to one request, uncached)

Making: waiting for the maker (or for the worker process that fills the key: then the
flight follows that fill). Streaming: the body is written to a staging file; waiters get a
`Tail` of it. Committed: the body is an entry; waiters get it. The first request to arrive
starts the flight; when the last one leaves before the end, the flight is stopped unless it
is worth finishing (see `Abandon`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from proxy.cache.entry import Entry, Meta
from proxy.cache.results import Fill, Passthrough
from proxy.cache.tail import Growth, Tail


@dataclass(frozen=True)
class Abandon:
    """When every request has left a fill: finish it anyway if at most `limit` bytes remain
    and it is more than half done, or a request asked for it (`finish_in_background`)."""

    limit: int

    def keep_going(self, written: int, size: int, asked: bool) -> bool:
        remaining = size - written
        if size < 0 or remaining > self.limit:
            return False
        return asked or written * 2 >= size


@dataclass(frozen=True)
class Making:
    pass


@dataclass(frozen=True)
class Streaming:
    meta: Meta
    read_fd: int  # the flight's own; each tail gets a dup
    growth: Growth


@dataclass(frozen=True)
class Committed:
    meta: Meta
    body: bytes | None = None  # in memory, or:
    fd: int | None = None  # the committed file, by the flight's descriptor
    path: Path | None = None


@dataclass(frozen=True)
class Failed:
    failure: BaseException


@dataclass
class Handoff:
    fill: Fill
    taken: bool = False


Phase = Making | Streaming | Committed | Failed | Handoff
FINAL = (Committed, Failed, Handoff)


@dataclass
class Flight:
    key: str
    abandon: Abandon
    pin_dir: Path
    phase: Phase = field(default_factory=Making)
    task: asyncio.Task[None] | None = None
    on_idle: Callable[[], None] = lambda: None  # called when nobody wants it any more
    _refs: int = 0
    _asked_to_finish: bool = False
    _finished: bool = False
    _closed: bool = False
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # -- moving between phases (the maker's side) -----------------------------------------

    def move(self, phase: Phase) -> None:
        """Enter `phase`; the old phase's descriptors are closed (waiters dup what they keep,
        on this same event loop, so none is between reading and duplicating one)."""
        if isinstance(self.phase, Committed | Failed):
            _close(_descriptors(phase))
            return  # final: a late failure after the commit changes nothing
        old = _descriptors(self.phase)
        self.phase = phase
        _close(fd for fd in old if fd not in _descriptors(phase))
        self.progressed()

    def finish(self) -> None:
        """The maker is done; the descriptors go once the last waiter has left too."""
        self._finished = True
        if self._refs <= 0:
            self._close_all()

    def _close_all(self) -> None:
        if not self._closed:
            self._closed = True
            _close(_descriptors(self.phase))

    def progressed(self) -> None:
        """Something changed: more bytes, or a new phase."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def wait_changed(self) -> None:
        await self._changed.wait()

    @property
    def failure(self) -> BaseException | None:
        return self.phase.failure if isinstance(self.phase, Failed) else None

    @property
    def committed(self) -> bool:
        return isinstance(self.phase, Committed)

    # -- the waiters' side -----------------------------------------------------------------

    async def join(self) -> Entry | Tail | Passthrough:
        """This request's view of the fill: a tail while it streams, else the result."""
        self._refs += 1
        handed_tail = False
        try:
            while isinstance(self.phase, Making):
                await self.wait_changed()
            phase = self.phase
            if isinstance(phase, Streaming):
                handed_tail = True
                fd = os.dup(phase.read_fd)
                return Tail(phase.meta, fd, phase.growth, self.leave, self.keep)
            if isinstance(phase, Handoff):
                return self._take(phase)
            if isinstance(phase, Failed):
                raise phase.failure
            assert isinstance(phase, Committed)
            return self._entry(phase)
        finally:
            if not handed_tail:
                self.leave()

    def _entry(self, phase: Committed) -> Entry:
        if phase.body is not None:
            return Entry(self.key, phase.meta, "MISS", body=phase.body)
        assert phase.fd is not None
        fobj = os.fdopen(os.dup(phase.fd), "rb", buffering=0)
        return Entry(self.key, phase.meta, "MISS", file=fobj, path=phase.path, pin_dir=self.pin_dir)

    def _take(self, phase: Handoff) -> Passthrough:
        if phase.taken:
            raise HandoffTaken
        phase.taken = True
        assert phase.fill.stream is not None
        return Passthrough(phase.fill.meta, phase.fill.stream)

    def keep(self) -> None:
        self._asked_to_finish = True

    def leave(self) -> None:
        self._refs -= 1
        if self._refs > 0:
            return
        if self._finished:
            self._close_all()
            return
        phase = self.phase
        if isinstance(phase, FINAL):
            return
        if isinstance(phase, Streaming) and self.abandon.keep_going(
            phase.growth.written(), phase.meta.size, self._asked_to_finish
        ):
            return
        self.on_idle()


def _descriptors(phase: Phase) -> list[int]:
    if isinstance(phase, Streaming):
        return [phase.read_fd]
    if isinstance(phase, Committed) and phase.fd is not None:
        return [phase.fd]
    return []


def _close(fds: Iterable[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class HandoffTaken(Exception):
    """The uncacheable stream went to another request: this one must read on its own."""


class LocalGrowth:
    """The growth of a body this process writes: woken by the flight, no polling."""

    def __init__(self, flight: Flight) -> None:
        self._flight = flight
        self.bytes = 0

    def written(self) -> int:
        return self.bytes

    def committed(self) -> bool:
        return self._flight.committed

    def failed(self) -> BaseException | None:
        return self._flight.failure

    async def changed(self) -> None:
        await self._flight.wait_changed()
