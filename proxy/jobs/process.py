"""One render process, as the server sees it: started, handed jobs one at a time, killed.

The server reads its messages with asyncio (never blocking the event loop), answers its
ranged reads from the store, watches its resident memory, and kills it the moment a job
runs past its time, past its memory, or is no longer wanted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxy.errors import (
    BadRequest,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    ProxyError,
    RangeNotSatisfiable,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
)
from proxy.jobs.protocol import (
    INLINE_OUTPUT,
    LENGTH,
    Job,
    RangeData,
    Untrusted,
    decode_header,
    header_length,
    payload_length,
    pickled,
)

log = logging.getLogger("proxy.render")

START_TIMEOUT = 60.0
MEMORY_POLL = 0.05
MAX_RANGE = 4 << 20  # the most a render process may ask for in one ranged read
RangeFetch = Callable[[int, int], Awaitable[bytes]]
_BY_STATUS: dict[int, type[ProxyError]] = {
    400: BadRequest,
    404: NotFound,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    416: RangeNotSatisfiable,
    422: Unprocessable,
}
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class JobResult:
    format: str | None
    body: bytes | None = None  # the output, or:
    file: Path | None = None  # the file it was written to (the job's `output`)
    extra: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0  # how long the render process took (not the wait for a slot)

    @property
    def size(self) -> int:
        if self.body is not None:
            return len(self.body)
        assert self.file is not None
        return self.file.stat().st_size


class JobFailed(Exception):
    """How a job ended when it did not end well: `outcome` labels the metric."""

    def __init__(self, outcome: str, error: BaseException) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.error = error


class RenderProcess:
    def __init__(self, memory_limit: int, env: Mapping[str, str]) -> None:
        self.memory_limit = memory_limit
        self.env = dict(env)
        self.jobs = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._baseline = 0
        self._peak = 0
        self._over_memory = False

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else 0

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "proxy.jobs.child", str(theirs.fileno()),
                str(self.memory_limit),
                pass_fds=(theirs.fileno(),), stdin=asyncio.subprocess.DEVNULL, env=self.env,
            )  # fmt: skip
        finally:
            theirs.close()
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
            async with asyncio.timeout(START_TIMEOUT):
                ready, _ = await self._read(0)
        except (TimeoutError, EOFError, Untrusted, OSError) as exc:
            await self.kill()
            raise ServiceUnavailable("the render processes cannot start") from exc
        except BaseException:  # cancelled (the server stops): no process left behind
            await self.kill()
            raise
        if ready.get("type") != "ready" or not isinstance(ready.get("rss"), int):
            await self.kill()
            raise ServiceUnavailable("the render processes cannot start")
        self._baseline = ready["rss"]

    async def run(self, job: Job, timeout: float, fetch: RangeFetch | None) -> JobResult:
        """The job's result, or JobFailed (the process is dead then, unless it refused)."""
        assert self._writer is not None
        self.jobs += 1
        self._peak = 0
        watch = asyncio.create_task(self._watch_memory())
        try:
            self._writer.write(pickled(job))
            async with asyncio.timeout(timeout):
                await self._writer.drain()
                return await self._converse(job, fetch)
        except TimeoutError:
            await self.kill()
            late = GatewayTimeout(f"rendering took longer than {timeout:g}s")
            raise JobFailed("timeout", late) from None
        except asyncio.CancelledError:
            await self.kill()  # nobody waits for it any more: free the slot now
            raise
        except (EOFError, asyncio.IncompleteReadError, ConnectionError) as exc:
            raise await self._died(job) from exc
        except Untrusted as exc:
            await self.kill()
            log.error("render process %d for %s: %s; killed it", self.pid, job.label, exc)
            raise JobFailed("crash", Unprocessable("cannot process image")) from exc
        finally:
            watch.cancel()

    async def _converse(self, job: Job, fetch: RangeFetch | None) -> JobResult:
        assert self._writer is not None
        while True:
            header, payload = await self._read(INLINE_OUTPUT)
            kind = header["type"]
            if kind == "range" and fetch is not None:
                self._writer.write(pickled(await _ranged(fetch, header)))
                await self._writer.drain()
            elif kind == "log":
                level = header.get("level")
                level = level if level in (logging.WARNING, logging.ERROR) else logging.WARNING
                log.log(level, "%s: %s", job.label, str(header.get("message", ""))[:500])
            elif kind == "done":
                return self._done(job, header, payload)
            elif kind == "error":
                status = header.get("status")
                reason = str(header.get("reason", ""))[:300] or None
                error = _BY_STATUS.get(status if isinstance(status, int) else 0, Unprocessable)
                raise JobFailed("refused", error(reason))
            elif kind == "memory":
                await self.kill()
                raise JobFailed("memory", self._memory_error())
            else:
                raise Untrusted(f"a {kind!r} message")

    def _done(self, job: Job, header: dict[str, Any], payload: bytes) -> JobResult:
        fmt = header.get("format")
        extra = header.get("extra", {})
        if (fmt is not None and not isinstance(fmt, str)) or not isinstance(extra, dict):
            raise Untrusted("a result without a format")
        size = header.get("file")
        if size is None:
            return JobResult(fmt, body=payload, extra=extra)
        if not isinstance(size, int) or not job.output.is_file():
            raise Untrusted("a result file that is not there")
        if job.output.stat().st_size != size:
            raise Untrusted("a result file of the wrong size")
        return JobResult(fmt, file=job.output, extra=extra)

    async def _read(self, limit: int) -> tuple[dict[str, Any], bytes]:
        assert self._reader is not None
        raw = await self._reader.readexactly(LENGTH.size)
        header = decode_header(await self._reader.readexactly(header_length(raw)))
        length = payload_length(header, limit)
        return header, (await self._reader.readexactly(length) if length else b"")

    async def _died(self, job: Job) -> JobFailed:
        assert self._proc is not None
        code = await self._proc.wait()
        if self._over_memory or self._peak - self._baseline > self.memory_limit // 2:
            log.warning(
                "render process %d for %s went past %d MiB; killed it",
                self.pid, job.label, self.memory_limit >> 20,
            )  # fmt: skip
            return JobFailed("memory", self._memory_error())
        cause = signal.Signals(-code).name if code < 0 else f"exit status {code}"
        log.error("render process %d crashed on %s (%s)", self.pid, job.label, cause)
        return JobFailed("crash", Unprocessable("cannot process image: the decoder crashed"))

    def _memory_error(self) -> Unprocessable:
        return Unprocessable(f"image needs more than {self.memory_limit >> 20} MiB to render")

    async def _watch_memory(self) -> None:
        statm = f"/proc/{self.pid}/statm"
        while True:
            await asyncio.sleep(MEMORY_POLL)
            try:
                with open(statm) as f:
                    rss = int(f.read().split()[1]) * _PAGE
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                return
            self._peak = max(self._peak, rss)
            if rss - self._baseline > self.memory_limit:
                self._over_memory = True
                self._signal_kill()
                return

    def _signal_kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def kill(self) -> None:
        self._signal_kill()
        if self._writer is not None:
            self._writer.close()
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                await self._proc.wait()


async def _ranged(fetch: RangeFetch, header: dict[str, Any]) -> RangeData:
    start, end = header.get("start"), header.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
        raise Untrusted("a range that is not one")
    if end - start >= MAX_RANGE:
        raise Untrusted(f"a range of {end - start + 1} bytes")
    try:
        return RangeData(await fetch(start, end))
    except ProxyError as exc:
        return RangeData(None, exc.reason)
