"""Real proxy nodes: `python -m proxy serve` processes with their own port and cache folder.

A node keeps its port and DATA_PATH across restarts, as a container keeps its volume, so a
node that comes back finds its caches where it left them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests.cluster.haproxy import wait_until
from tests.conftest import metric_value


class Node:
    def __init__(self, name: str, port: int, data_path: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.port = port
        self.data_path = data_path
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "DATA_PATH": str(data_path),
            "NODE_NAME": name,
            "ACCESS_LOG": "off",
            "LOG_LEVEL": "warning",
            # One render at a time: three nodes, HAProxy, moto and the clients share two cores.
            "PREVIEWS_CONCURRENCY": "1",
            **env,
        }
        self.log_path = data_path.parent / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        argv = [sys.executable, "-m", "proxy", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--workers", "1"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.data_path.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended as one
            )
        wait_until(self._healthy, 60, f"{self.name} to answer /health")
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(self.base + "/health", timeout=5) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)

    def kill(self) -> None:
        """kill -9, as the OOM killer or a lost machine would end it: no draining."""
        self.signal(signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as answer:
            return metric_value(answer.read().decode(), name)

    def store_reads(self) -> int:
        """GETs this process has sent to the store (counted since it started)."""
        return int(self.metric("proxy_storage_reads_total"))
