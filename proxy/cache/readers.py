"""The threads that read a cache's hits, fed in batches.

A trip to a thread per hit costs about what the hit's own work costs (an executor job, a
wake-up of the thread, a wake-up of the loop). The reads asked for during one turn of the
loop go to a thread together instead: one job, one wake-up each way, for the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
Job = tuple[Callable[[], Any], "asyncio.Future[Any]"]


class Readers:
    def __init__(self, threads: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
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
        self._pool.submit(self._work, batch)

    def _work(self, batch: list[Job]) -> None:
        """Runs on a reader thread."""
        outcomes: list[tuple[bool, Any]] = []
        for call, _ in batch:
            try:
                outcomes.append((True, call()))
            except BaseException as exc:  # handed to the request that asked
                outcomes.append((False, exc))
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_deliver, batch, outcomes)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)


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
