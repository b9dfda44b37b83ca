"""The one bounded pool of render processes: previews, conversions and frame decodes.

`concurrency` jobs run at once, each in a render process of its own; up to `queue` more wait
for a slot; any beyond that are refused at once with 503 and `Retry-After`, so a burst cannot
pile up memory and latency behind the jobs already running. A job past its time limit, past
its memory limit or no longer wanted is killed, its slot is free at once, and a fresh process
takes the dead one's place. One spare process is kept ready, so the job after a kill does
not wait for a process to start. A pool that has had no job for `idle_timeout` stops its
processes (each is some 40 MiB, 70 once it has converted or read a video, that a node serving
only cache hits does not need) and starts them again for the next job, which waits for it;
such a pool starts them for its first job, too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from proxy import metrics
from proxy.errors import ServiceUnavailable
from proxy.jobs.process import START_TIMEOUT, JobFailed, JobResult, RangeFetch, RenderProcess
from proxy.jobs.protocol import Job

log = logging.getLogger("proxy.render")

# A process is replaced after this many jobs, so no leak in a decoder can add up.
JOBS_PER_PROCESS = 500
SPARES = 1


def child_environment(base: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    # Few allocator arenas: less address space reserved, so the address-space limit is the
    # memory limit, not a guess at glibc's habits.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


class JobPool:
    def __init__(
        self,
        concurrency: int,
        queue: int,
        memory_limit: int,
        env: Mapping[str, str] | None = None,
        jobs_per_process: int = JOBS_PER_PROCESS,
        idle_timeout: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self.queue = queue
        self.memory_limit = memory_limit
        self.jobs_per_process = jobs_per_process
        self._env = child_environment(os.environ if env is None else env)
        self._idle: list[RenderProcess] = []
        self._ready: asyncio.Event | None = None  # made on the loop that uses it
        self._slots: asyncio.Semaphore | None = None
        self._processes = 0  # alive or starting
        self._waiting = 0
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._failed_starts = 0
        self._closed = False
        self.idle_timeout = idle_timeout  # 0: processes are kept however long nothing runs
        self.clock = clock
        self._last_job = clock()
        self._retired = False  # stopped for idleness: nothing is started until a job comes
        self._idle_watch: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Jobs waiting for a slot."""
        return self._waiting

    @property
    def running(self) -> int:
        """Jobs in a render process right now."""
        return self._running

    async def start(self) -> None:
        self._ready = asyncio.Event()
        self._slots = asyncio.Semaphore(self.concurrency)
        # With an idle timeout, a pool that has had no job yet is as idle as one that has had
        # none for that long: its first job starts the processes, as the first after a stop
        # does. Without one, they are kept from the start.
        self._retired = self.idle_timeout > 0
        self._top_up()
        if self.idle_timeout > 0:
            self._idle_watch = asyncio.create_task(self._watch_idleness())

    async def _watch_idleness(self) -> None:
        assert self.idle_timeout > 0
        while not self._closed:
            await asyncio.sleep(self.idle_timeout / 4)
            self.retire_if_idle()

    def retire_if_idle(self) -> bool:
        """Stop every render process once no job has come for `idle_timeout`."""
        if self.idle_timeout <= 0 or self._retired or self._running or self._waiting:
            return False
        if self.clock() - self._last_job < self.idle_timeout:
            return False
        self._retired = True
        idle, self._idle = self._idle, []
        self._processes -= len(idle)
        for process in idle:
            self._background(process.kill())
        log.info("no render for %gs: stopped %d render processes", self.idle_timeout, len(idle))
        return True

    def idle_pids(self) -> set[int]:
        """The render processes ready for a job (what an operator, or a test, can look at)."""
        return {process.pid for process in self._idle}

    def problem(self) -> str:
        """For /health: "" while render processes can be started."""
        if self._failed_starts >= 3:
            return "render processes cannot start"
        return ""

    async def run(self, job: Job, *, timeout: float, fetch: RangeFetch | None = None) -> JobResult:
        """Run `job` in a render process once a slot is free; 504 past `timeout`."""
        slots = self._slots
        if slots is None or self._closed:
            raise ServiceUnavailable("shutting down")
        self._last_job = self.clock()
        self._retired = False
        await self._acquire(slots)
        outcome = "ok"
        try:
            process = await self._take()
            started = time.perf_counter()
            self._running += 1
            try:
                result = await process.run(job, timeout, fetch)
            finally:
                self._running -= 1
                self._give_back(process)
            return dataclasses.replace(result, seconds=time.perf_counter() - started)
        except JobFailed as failed:
            outcome = failed.outcome
            raise failed.error from None
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except ServiceUnavailable:
            outcome = "crash"
            raise
        finally:
            self._last_job = self.clock()
            slots.release()
            metrics.RENDER_JOBS.labels(job.kind, outcome).inc()

    async def _acquire(self, slots: asyncio.Semaphore) -> None:
        if not slots.locked():
            await slots.acquire()
            return
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

    async def _take(self) -> RenderProcess:
        assert self._ready is not None
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                while self._idle:
                    process = self._idle.pop()
                    if process.alive:
                        return process
                    self._processes -= 1  # died while idle
                self._top_up()
                self._ready.clear()
                await self._ready.wait()

    def _put_idle(self, process: RenderProcess) -> None:
        assert self._ready is not None
        self._idle.append(process)
        self._ready.set()

    def _give_back(self, process: RenderProcess) -> None:
        if process.alive and not self._closed and process.jobs < self.jobs_per_process:
            self._put_idle(process)
            return
        self._processes -= 1
        if process.alive:
            self._background(process.kill())
        self._top_up()

    def _top_up(self) -> None:
        """Start processes (in the background) until there are enough for every slot + spares."""
        while (
            not self._closed and not self._retired and self._processes < self.concurrency + SPARES
        ):
            self._processes += 1
            self._background(self._start_one())

    async def _start_one(self) -> None:
        process = RenderProcess(self.memory_limit, self._env)
        try:
            await process.start()
        except ServiceUnavailable:
            self._processes -= 1
            self._failed_starts += 1
            log.error("a render process failed to start (%d in a row)", self._failed_starts)
            if self._failed_starts < 3:
                self._top_up()
            return
        self._failed_starts = 0
        metrics.RENDER_PROCESSES_STARTED.inc()
        if self._closed or self._retired:  # a start that outlived the need for it
            self._processes -= 1
            await process.kill()
        else:
            self._put_idle(process)

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closed = True
        if self._idle_watch is not None:
            self._idle_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_watch
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        idle, self._idle = self._idle, []
        await asyncio.gather(*(process.kill() for process in idle))
