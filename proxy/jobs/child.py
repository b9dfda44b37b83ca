"""A render process: `python -m proxy.jobs.child FD MEMORY_LIMIT`, started by `JobPool`.

It decodes and encodes hostile images, so it is built to be expendable: it runs one job at a
time, has an address-space limit (the server also watches its resident memory), dies with
the server, and when it crashes, is killed for taking too long, or runs out of memory, only
the request it served fails; the server starts a fresh one. This module is the composition
root of the render process: the only place that knows every kind of job.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from proxy.errors import ProxyError
from proxy.jobs.protocol import (
    INLINE_OUTPUT,
    STATUSES,
    Job,
    Output,
    RangeData,
    receive_pickle,
    send_json,
)

JobFunction = Callable[[Job, Callable[[int, int], bytes] | None], Output]
# Room above the measured baseline for libvips's thread stacks and allocator arenas, which
# reserve address space they never touch.
ADDRESS_SLACK = 256 << 20
# Address space the job modules loaded on their first job may map beyond the ceiling set at
# start: PyAV's FFmpeg libraries alone map some 110 MiB (of which some 30 MiB is resident).
LATE_IMPORTS = 192 << 20
TEST_HOOKS = "PROXY_JOB_TEST_HOOKS"
# What each kind of job runs, as "module:function", and the modules it loads as it runs. Only
# previews are loaded at start: a render process that never converts or describes a video
# never loads FFmpeg and the converters, which would make each process some 30 MiB larger and
# a third slower to start.
JOBS: dict[str, tuple[str, ...]] = {
    "preview": ("proxy.previews.job:render_preview",),
    "convert": ("proxy.converter.jobs:convert",),
    "videoframe": ("proxy.converter.jobs:video_frame", "proxy.converter.video"),
    "info": ("proxy.info.job:describe",),
}
EAGER = "preview"


def job_function(kind: str) -> JobFunction:
    """The function of a kind of job, its modules imported on first use; KeyError if none."""
    target, *loads = JOBS[kind]
    module, _, name = target.partition(":")
    for needed in (module, *loads):
        if needed not in sys.modules:
            _import_late(needed)
    function: JobFunction = getattr(sys.modules[module], name)
    return function


class JobLog(logging.Handler):
    """What libvips and the decoders say during a job: chatter (INFO) is dropped to DEBUG,
    warnings are kept, once each, and sent to the server with the source's name."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            message = record.getMessage().strip()[:500]
            self.lines.setdefault(f"{record.levelname.lower()}:{message}", record.levelno)

    def drain(self) -> list[tuple[int, str]]:
        lines = [(level, text.split(":", 1)[1]) for text, level in self.lines.items()]
        self.lines.clear()
        return lines


class Ranges:
    """Ranged reads of a source, asked of the server (which reads the store) and waited for."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def __call__(self, start: int, end: int) -> bytes:
        send_json(self.sock, {"type": "range", "start": start, "end": end})
        answer = receive_pickle(self.sock)
        if not isinstance(answer, RangeData) or answer.data is None:
            reason = answer.reason if isinstance(answer, RangeData) else "no answer"
            raise OSError(f"ranged read failed: {reason}")
        return answer.data


def _die_with_the_server() -> None:
    # Only the server ends a render process (SIGKILL, or this when it dies). A SIGTERM or a
    # Ctrl-C sent to the whole process group (systemd's control-group stop, a shell) must not
    # crash the renders that the server is still draining.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no render process outlives its server
    if os.getppid() == 1:
        os._exit(1)


def _vm(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_memory(limit: int) -> None:
    """Address space: what this process uses after start-up, plus the limit; the hard limit
    leaves room for the job modules imported later (and only for them: `_widen_ceiling`)."""
    ceiling = _vm("VmSize") + limit + ADDRESS_SLACK
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling + LATE_IMPORTS))


def _import_late(module: str) -> None:
    """Import under the hard limit, then keep the soft one what it was plus what was mapped."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    before = _vm("VmSize")
    if soft != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    try:
        importlib.import_module(module)
    finally:
        if soft != resource.RLIM_INFINITY:
            mapped = max(_vm("VmSize") - before, 0)
            resource.setrlimit(resource.RLIMIT_AS, (min(soft + mapped, hard), hard))


def _warm_up() -> None:
    import pyvips

    # Every job reads a different file: libvips's operation cache would only pin memory.
    pyvips.cache_set_max(0)
    pyvips.Image.black(64, 64).thumbnail_image(16).jpegsave_buffer()


def _test_hooks(job: Job) -> Job:
    """Only with PROXY_JOB_TEST_HOOKS=1 (the tests'): sources that hold, spin, eat or crash.

    `PROXY-TEST-HOLD <gate path>` + newline + an image: waits until the gate file exists, then
    renders the image, so a test knows a render is in flight without betting on its speed.
    """
    from dataclasses import replace

    from proxy.blob import Blob

    if not isinstance(job.source, Blob):
        return job
    head = job.source.head(256)
    if head.startswith(b"PROXY-TEST-HOLD "):
        line, _, _ = head.partition(b"\n")
        gate = line.split(b" ", 1)[1].decode()
        while not os.path.exists(gate):
            time.sleep(0.005)
        return replace(job, source=Blob.of_bytes(job.source.read()[len(line) + 1 :]))
    if head.startswith(b"PROXY-TEST-CRASH"):
        ctypes.string_at(0)  # a segfault, as a decoder bug would cause
    elif head.startswith(b"PROXY-TEST-SPIN"):
        while True:
            pass
    elif head.startswith(b"PROXY-TEST-EAT"):
        hog = []
        while True:
            hog.append(bytearray(16 << 20))
    return job


def _answer(sock: socket.socket, job: Job) -> tuple[dict[str, Any], bytes]:
    """The result message of one job: done (with the output, or in a file), or why not."""
    if os.environ.get(TEST_HOOKS) == "1":
        job = _test_hooks(job)
    try:
        output = job_function(job.kind)(job, Ranges(sock))
    except ProxyError as exc:
        status = exc.status if exc.status in STATUSES else 422
        return {"type": "error", "status": status, "reason": exc.reason[:300]}, b""
    except MemoryError:
        return {"type": "memory"}, b""
    except Exception as exc:  # a decoder failure we have no better words for
        return {"type": "error", "status": 422, "reason": _reason(exc)}, b""
    header: dict[str, Any] = {"type": "done", "format": output.format, "extra": output.extra}
    if len(output.body) <= INLINE_OUTPUT:
        return header, output.body
    with open(job.output, "xb") as out:
        out.write(output.body)
    return {**header, "file": len(output.body)}, b""


def main(argv: list[str]) -> int:
    _die_with_the_server()
    sock = socket.socket(fileno=int(argv[0]))
    memory_limit = int(argv[1])
    log = JobLog()
    root = logging.getLogger()
    root.handlers[:] = [log]
    root.setLevel(logging.DEBUG)
    job_function(EAGER)
    _warm_up()
    _limit_memory(memory_limit)
    started_rss = _vm("VmRSS")
    send_json(sock, {"type": "ready", "rss": started_rss})
    trim = _malloc_trim()
    while True:
        try:
            job = receive_pickle(sock)
        except EOFError:
            return 0
        header, payload = _answer(sock, job)
        for level, line in log.drain():  # before the result: the server reads them first
            send_json(sock, {"type": "log", "level": level, "message": line})
        send_json(sock, header, payload)
        if trim is not None and _vm("VmRSS") - started_rss > TRIM_ABOVE:
            # glibc keeps what a large decode freed; handing it back keeps an idle render
            # process at its start-up size, as imgproxy's documentation advises for libvips.
            trim(0)


# RSS beyond the start-up past which a finished job's freed memory is handed back.
TRIM_ABOVE = 32 << 20


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        function: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except AttributeError:  # not glibc
        return None
    return function


def _reason(exc: Exception) -> str:
    detail = str(exc).strip().splitlines()
    return f"cannot process image: {detail[0][:200] if detail else type(exc).__name__}"


if __name__ == "__main__":
    try:
        raise SystemExit(main(sys.argv[1:]))
    except (BrokenPipeError, ConnectionError, EOFError):
        raise SystemExit(0) from None  # the server went away: nothing to say to anyone
