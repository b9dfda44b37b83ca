"""The per-request time limit: it covers making the answer, not sending a large body.

One watchdog per process checks the requests in flight a few times a second and cancels
those past their deadline. That costs a dict insert and delete per request, where an
`asyncio.timeout` per request (a timer in the loop's heap, scheduled and cancelled every
time) cost an eighth of the cache-hit path.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web


class Deadlines:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.interval = max(0.001, min(0.25, timeout / 4))
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._watcher: asyncio.Task[None] | None = None

    def track(self, task: asyncio.Task[object]) -> None:
        loop = asyncio.get_running_loop()
        self._due[task] = loop.time() + self.timeout
        if self._watcher is None or self._watcher.done():
            self._watcher = loop.create_task(self._watch())

    def release(self, task: asyncio.Task[object]) -> None:
        self._due.pop(task, None)

    def expired(self, task: asyncio.Task[object]) -> bool:
        """Whether this task was cancelled for its deadline (and not by anyone else)."""
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        # It sleeps before it looks, and ends only after a whole interval with nothing in
        # flight: a hit often ends before the watcher's first turn, and a watcher that ended
        # then would be a new task for every request.
        while True:
            await asyncio.sleep(self.interval)
            if not self._due:
                return
            now = loop.time()
            for task, due in list(self._due.items()):
                if due <= now:
                    del self._due[task]
                    self._expired.add(task)
                    task.cancel()

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher


DEADLINES = web.AppKey("deadlines", Deadlines)


def lift_deadline(request: web.Request) -> None:
    """Called once the first byte is going out: a slow download is not a slow answer."""
    task = asyncio.current_task()
    if task is not None:
        request.app[DEADLINES].release(task)
