"""Running the app: one process, or a supervisor with N workers sharing one port.

Workers bind the same port with SO_REUSEPORT, so the kernel spreads connections over them;
they share the three caches through the on-disk index and coordinate misses with file locks.
The supervisor replaces a worker that dies and, on SIGTERM/SIGINT, passes the signal on and
waits for the workers to finish their in-flight requests. A supervisor that is killed outright
(SIGKILL, the OOM killer) takes its workers along: each gets SIGTERM from the kernel and drains,
instead of serving on as an orphan nobody supervises or stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from proxy.logs import setup_logging
from proxy.settings import Settings

log = logging.getLogger("proxy.server")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: int = 1,
    env_file: str | None = None,
    worker: bool = False,
) -> int:
    setup_logging(settings.log_level)
    if worker or workers <= 1:
        from proxy.web.fair_loop import new_loop

        with asyncio.Runner(loop_factory=new_loop) as runner:
            runner.run(run_worker(settings, host, port, reuse_port=worker))
        return 0
    return Supervisor(settings, host, port, workers, env_file).run()


async def run_worker(settings: Settings, host: str, port: int, *, reuse_port: bool) -> None:
    from aiohttp import web

    from proxy.services import build_services
    from proxy.web.app import create_app
    from proxy.web.connections import Guard, GuardedRunner
    from proxy.web.drain import flush

    app = create_app(build_services(settings))
    # handler_cancellation: a client that hangs up cancels its handler, so work that nobody
    # else waits for (a render, a download into the cache) is cancelled with it.
    guard = Guard(settings.header_timeout, settings.idle_timeout, settings.max_connections)
    runner = GuardedRunner(
        app,
        guard=guard,
        handle_signals=False,
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None, backlog=1024)
    await site.start()
    log.info(
        "pid %d serving %s storage (%s) on http://%s:%d",
        os.getpid(),
        settings.storage.provider,
        ",".join(settings.storage.buckets) or "no buckets",
        host,
        port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("pid %d stopping: finishing in-flight requests", os.getpid())
    # Stops accepting, waits up to shutdown_timeout for in-flight requests, then runs
    # on_cleanup, where unfinished cache writes are discarded.
    await runner.cleanup()
    await flush(runner.transports, settings.shutdown_timeout)


class Supervisor:
    def __init__(
        self, settings: Settings, host: str, port: int, workers: int, env_file: str | None
    ) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.count = workers
        self.env_file = env_file
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.stopping = False
        self.quick_deaths = 0

    def _spawn(self) -> None:
        command = [sys.executable, "-m", "proxy", "serve", "--worker"]
        command += ["--host", self.host, "--port", str(self.port)]
        if self.env_file:
            command += ["--env-file", self.env_file]
        # preexec_fn is safe here: the supervisor runs no threads.
        child = subprocess.Popen(command, preexec_fn=_die_with(os.getpid()))
        self.children[child.pid] = child

    def run(self) -> int:
        metrics_dir = Path(tempfile.mkdtemp(prefix="proxy-metrics-"))
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        log.info("starting %d workers on http://%s:%d", self.count, self.host, self.port)
        try:
            for _ in range(self.count):
                self._spawn()
            return self._watch()
        finally:
            self._stop_children()
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _watch(self) -> int:
        started = {pid: time.monotonic() for pid in self.children}
        while not self.stopping:
            time.sleep(0.2)
            for pid, child in list(self.children.items()):
                code = child.poll()
                if code is None or self.stopping:
                    continue
                del self.children[pid]
                _mark_dead(pid)
                lived = time.monotonic() - started.pop(pid, 0.0)
                self.quick_deaths = self.quick_deaths + 1 if lived < 2 else 0
                if self.quick_deaths > 3 * self.count:
                    log.error("workers keep dying at start (exit %s); giving up", code)
                    return 1
                log.warning("worker %d exited with %s; starting a new one", pid, code)
                self._spawn()
                started.update({p: time.monotonic() for p in self.children if p not in started})
        return 0

    def _stop_children(self) -> None:
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_timeout + 5
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """Runs in a forked worker before exec: SIGTERM it when `parent` goes away."""
    libc = ctypes.CDLL(None, use_errno=True)  # looked up before the fork, not in the child

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # died between the fork and the prctl
            os._exit(1)

    return arm


def _mark_dead(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
