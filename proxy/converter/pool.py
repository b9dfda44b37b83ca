"""A bounded pool of worker threads for blocking decodes, with a time limit per job.

A thread cannot be killed, so a job past its time limit is told to stop through its `Token`
(checked between frames and between reads) and answered with 504 at once; its thread still
counts against the pool until it really ends, so runaway jobs turn into 503s, not into an
unbounded number of threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from proxy.errors import GatewayTimeout, ServiceUnavailable

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a worker whose job nobody waits for any more."""


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
            raise Cancelled("conversion abandoned")


class Pool:
    def __init__(self, workers: int, queue: int, timeout: float) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="converter")
        self.capacity = workers + queue
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pending = 0
        self._tokens: set[Token] = set()

    @property
    def pending(self) -> int:
        return self._pending

    def _finished(self, _: Future[object]) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, job: Callable[[Token], T]) -> T:
        """Run `job(token)` in a worker: 503 when the pool is full, 504 past the time limit."""
        with self._lock:
            if self._pending >= self.capacity:
                raise ServiceUnavailable("converter busy, retry later")
            self._pending += 1
        token = Token()
        try:
            future = self._executor.submit(job, token)
        except RuntimeError as exc:  # shut down
            self._finished(Future())
            raise ServiceUnavailable("converter is shutting down") from exc
        future.add_done_callback(self._finished)
        self._tokens.add(token)
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            token.cancel()
            raise GatewayTimeout(f"conversion took longer than {self.timeout:g}s") from None
        except BaseException:
            token.cancel()
            raise
        finally:
            self._tokens.discard(token)

    def close(self) -> None:
        """Stop queued jobs and tell running ones to stop: their results have no taker."""
        for token in list(self._tokens):
            token.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
