"""The one bounded pool for blocking image work: renders, conversions, frame decodes.

`concurrency` jobs run at once in worker threads (never on the event loop); up to `queue`
more wait for a slot; any beyond that are refused at once with 503 and `Retry-After`, so a
burst cannot pile up memory and latency behind the jobs already running. Previews and the
image converter share it, so together they never use more than `concurrency` cores.

A thread cannot be killed: a job past its time limit, or whose requester went away, is
told to stop through its `Token` (long jobs check it between frames and reads), and its slot
stays taken until the thread really ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from proxy import metrics
from proxy.errors import GatewayTimeout, ServiceUnavailable

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a job whose result nobody waits for any more."""


class Token:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("job abandoned")


class WorkPool:
    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="work")
        self._waiting = 0
        self._slots: asyncio.Semaphore | None = None  # made on the loop that uses it

    @property
    def waiting(self) -> int:
        return self._waiting

    async def run(self, job: Callable[[Token], T], *, timeout: float | None = None) -> T:
        """Run job(token) in a worker thread once a slot is free; 504 past `timeout`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots = self._slots
        if slots.locked():
            if self._waiting >= self.queue:
                metrics.RENDERS_REJECTED.inc()
                raise ServiceUnavailable("busy, retry later", headers={"Retry-After": "1"})
            self._waiting += 1
            metrics.RENDER_QUEUE.set(self._waiting)
            try:
                await slots.acquire()
            finally:
                self._waiting -= 1
                metrics.RENDER_QUEUE.set(self._waiting)
        else:
            await slots.acquire()
        token = Token()
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor, job, token)
        except RuntimeError as exc:  # shut down
            slots.release()
            raise ServiceUnavailable("shutting down") from exc

        def free_slot(done: asyncio.Future[T]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved, so an unawaited failure is not reported
            slots.release()

        # The slot is free only when the thread is, whatever happens to the waiter.
        future.add_done_callback(free_slot)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            token.cancel()
            raise GatewayTimeout(f"took longer than {timeout:g}s") from None
        except BaseException:
            token.cancel()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
