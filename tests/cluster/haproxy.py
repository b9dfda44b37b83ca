"""The shipped HAProxy config, run for real on loopback: only its addresses are set, through
the environment variables the config reads (HAPROXY_BIND, NODE1_ADDR, ...)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import unquote_to_bytes

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "haproxy" / "haproxy.cfg"
NODE_NAMES = ("node1", "node2", "node3")

# "... nodes/node2 ... rid=<id> key=<url-encoded key> "GET /x HTTP/1.1"" (see log-format)
_LOG_LINE = re.compile(
    r"\] \S+ (?P<backend>[^/\s]+)/(?P<server>\S+) .* rid=(?P<rid>\S+) key=(?P<key>\S*) "
)


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "haproxy is missing: scripts/system-packages.sh installs it (apt-get install haproxy)"
        )
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class Routed:
    server: str
    key: bytes | None  # None: the request had no routing key (round robin)


class HAProxy:
    def __init__(
        self,
        port: int,
        stats_port: int,
        nodes: Mapping[str, int],
        log_path: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.stats_port = stats_port
        self.base = f"http://127.0.0.1:{port}"
        self.stats_base = f"http://127.0.0.1:{stats_port}"
        self.log_path = log_path
        env = {
            **os.environ,
            "HAPROXY_BIND": f"127.0.0.1:{port}",
            "HAPROXY_STATS_BIND": f"127.0.0.1:{stats_port}",
            **{f"{name.upper()}_ADDR": f"127.0.0.1:{p}" for name, p in nodes.items()},
            **(extra_env or {}),
        }
        argv = [haproxy_binary(), "-db", "-f", str(CONFIG)]
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_until(self._answers, 20, "HAProxy's stats page")
        except AssertionError:
            self.stop()
            raise AssertionError(f"HAProxy did not start:\n{self.log_text()[-3000:]}") from None

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"HAProxy exited:\n{self.log_text()[-3000:]}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(self.stats_base + "/;csv", timeout=2).close()
            return True
        return False

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stats(self) -> list[dict[str, str]]:
        with urllib.request.urlopen(self.stats_base + "/;csv", timeout=5) as answer:
            text = answer.read().decode().lstrip("# ")
        return list(csv.DictReader(io.StringIO(text)))

    def server_row(self, server: str) -> dict[str, str]:
        for row in self.stats():
            if row["pxname"] == "nodes" and row["svname"] == server:
                return row
        raise KeyError(server)

    def status(self, server: str) -> str:
        """UP, DOWN, or a transition such as "UP 1/2"."""
        return self.server_row(server)["status"]

    def wait_status(self, server: str, status: str, timeout: float = 30) -> None:
        wait_until(lambda: self.status(server) == status, timeout, f"{server} {status}")

    def routed(self, request_id: str, timeout: float = 10) -> Routed:
        """Where HAProxy sent the request it answered with this X-Request-ID, and its key."""
        found: list[Routed] = []

        def logged() -> bool:
            for line in self.log_text().splitlines():
                match = _LOG_LINE.search(line)
                if match and match["rid"] == request_id:
                    key = match["key"]
                    found.append(
                        Routed(match["server"], None if key == "-" else unquote_to_bytes(key))
                    )
                    return True
            return False

        wait_until(logged, timeout, f"HAProxy's log line for request {request_id}")
        return found[0]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def get(
    url: str, method: str = "GET", headers: Mapping[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    """One request, the URL sent exactly as written (urllib does not re-encode a path).

    Header names in the answer are lower case.
    """
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), _lower(answer.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), _lower(err.headers)


def _lower(headers: Message) -> dict[str, str]:
    # HAProxy sends header names in lower case; compare them that way.
    return {name.lower(): value for name, value in headers.items()}
