"""The threads that read a cache's hits, fed in batches.

A trip to a thread per hit costs about what the hit's own work costs (an executor job, a
wake-up of the thread, a wake-up of the loop). The reads asked for during one turn of the
loop go to a thread together instead: one job, one wake-up each way, for the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = tuple[Callable[[], Any], "asyncio.Future[Any]"]


class Readers:
    def __init__(self, threads: int, name: str) -> None:
        # A SimpleQueue, not an executor: its put takes no Python-level lock (the profile of
        # a disk-hit load showed ThreadPoolExecutor.submit at 7 % of a worker's samples).
        self._queue: queue.SimpleQueue[list[Job] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()
        self._pending: list[Job] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """`call` on a reader thread, with the others asked for in this turn of the loop."""
        loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((call, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._queue.put(batch)

    def _serve(self) -> None:
        while (batch := self._queue.get()) is not None:
            self._work(batch)

    def _work(self, batch: list[Job]) -> None:
        """Runs on a reader thread."""
        outcomes: list[tuple[bool, Any]] = []
        for call, _ in batch:
            try:
                outcomes.append((True, call()))
            except BaseException as exc:  # handed to the request that asked
                outcomes.append((False, exc))
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            self._loop.call_soon_threadsafe(_deliver, batch, outcomes)

    def shutdown(self) -> None:
        """The threads end once the batches already handed to them are done."""
        for _ in self._threads:
            self._queue.put(None)


def _deliver(batch: list[Job], outcomes: list[tuple[bool, Any]]) -> None:
    for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future.cancelled():
            if ok and hasattr(value, "close"):  # an open body file nobody will read
                value.close()
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
