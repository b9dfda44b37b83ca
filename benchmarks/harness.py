"""Shared machinery: starting and stopping servers, wrk runs and their parsing, RSS sampling.

Everything listens on 127.0.0.1 only; every load loop is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
RESULTS = BENCH_DIR / "results"
VENV_PY = ROOT / ".venv" / "bin" / "python"
THUMBOR_VENV = WORK / "thumbor-venv"
HOST = "127.0.0.1"
BUCKET = "bench"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout}s")


def http_get(url: str, timeout: float = 60.0) -> tuple[int, bytes, dict[str, str]]:
    """A plain GET: (status, body, headers); HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers or {})


# --- processes -------------------------------------------------------------------------------


@dataclass
class Server:
    """A process we started (in its own process group) and listen port(s)."""

    name: str
    proc: subprocess.Popen
    port: int
    log_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pids(self) -> list[int]:
        """The process and all its descendants (thumbor forks, nginx workers)."""
        return [self.pid, *descendants(self.pid)]

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def start_process(
    name: str,
    argv: list[str],
    port: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    wait: float = 60.0,
) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    out = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed with it
    proc = subprocess.Popen(
        argv,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=str(cwd or ROOT),
        start_new_session=True,
    )
    out.close()
    server = Server(name, proc, port, log_path)
    try:
        wait_port(port, wait, proc)
    except RuntimeError as exc:
        server.stop()
        raise RuntimeError(f"{name} did not start: {exc}\n{server.tail()}") from exc
    return server


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(server: Server) -> float:
    """User + system CPU of the server and its live descendants, in seconds."""
    total = 0
    for pid in server.pids():
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def settle(server: Server, timeout: float = 60.0) -> None:
    """Waits until the server's process tree is idle (under 2 % of a core over half a second).

    A listening port is not a ready server: the proxy's render processes (one Python
    interpreter each, importing pyvips) and thumbor's forks boot for seconds after it, and a
    measurement taken then measures their start-up, not the server (the one-connection
    streaming row once read 0.27x nginx for that reason alone).
    """
    deadline = time.monotonic() + timeout
    last = tree_cpu_seconds(server)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = tree_cpu_seconds(server)
        if now - last < 0.01:
            return
        last = now


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


# --- memory ----------------------------------------------------------------------------------


def proc_status_kib(pid: int, field_name: str) -> int:
    """VmRSS / VmHWM etc. of one process in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_pss_kib(pid: int) -> int:
    """Proportional set size of one process in KiB (0 if it is gone): its private pages and
    its share of those it shares, so a tree's PSS adds up to what it takes of the machine."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, writing 5 to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def reset_tree_peaks(server: Server) -> None:
    for pid in server.pids():
        reset_peak_rss(pid)


def tree_status_kib(server: Server, field_name: str) -> dict[int, int]:
    """VmHWM / VmRSS of every process in a server's tree, by pid."""
    return {pid: proc_status_kib(pid, field_name) for pid in server.pids()}


def max_delta_mib(before: dict[int, int], after: dict[int, int]) -> tuple[float, int]:
    """The largest per-process growth (MiB) between two tree readings, and its pid."""
    best, best_pid = 0.0, 0
    for pid, kib in after.items():
        delta = (kib - before.get(pid, 0)) / 1024
        if delta >= best:
            best, best_pid = delta, pid
    return best, best_pid


class RssSampler:
    """Samples the summed RSS of a server's process tree every `interval` seconds.

    `peak_mib` is the largest summed sample; for a single process, VmHWM (exact, kernel-kept)
    is read too and the larger of the two is reported. PSS is sampled too, every
    `PSS_EVERY`th sample (smaps_rollup walks every page table: too dear for every 20 ms).
    """

    PSS_EVERY = 10

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.peak_kib = 0
        self.start_kib = 0
        self.peak_pss_kib = 0
        self.start_pss_kib = 0
        self._pids: list[int] = []
        self._pids_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, refresh: bool = True) -> int:
        # walking /proc for the tree is the costly part: done once a second, not every sample
        if refresh or not self._pids or time.monotonic() - self._pids_at > 1.0:
            self._pids = self.server.pids()
            self._pids_at = time.monotonic()
        return sum(proc_status_kib(p, "VmRSS") for p in self._pids)

    def _pss(self) -> int:
        return sum(proc_pss_kib(p) for p in self._pids)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._sample(refresh=False))
            n += 1
            if n % self.PSS_EVERY == 0:
                self.peak_pss_kib = max(self.peak_pss_kib, self._pss())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.start_kib = self._sample()
        self.start_pss_kib = self._pss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self._sample())
        self.peak_pss_kib = max(self.peak_pss_kib, self._pss())

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def start_mib(self) -> float:
        return self.start_kib / 1024

    @property
    def peak_pss_mib(self) -> float:
        return self.peak_pss_kib / 1024

    @property
    def start_pss_mib(self) -> float:
        return self.start_pss_kib / 1024


# --- wrk -------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    transfer_per_s: str
    raw: str
    cpu_us: float = float("nan")  # CPU of the measured server's tree per request


def parse_wrk(text: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
    requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    non_2xx_m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    err_m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    transfer_m = re.search(r"Transfer/sec:\s+(\S+)", text)
    return WrkResult(
        rps=rps,
        p50_ms=_ms(lat["50"]) if "50" in lat else float("nan"),
        p99_ms=_ms(lat["99"]) if "99" in lat else float("nan"),
        requests=requests,
        non_2xx=int(non_2xx_m.group(1)) if non_2xx_m else 0,
        errors=sum(int(g) for g in err_m.groups()) if err_m else 0,
        transfer_per_s=transfer_m.group(1) if transfer_m else "",
        raw=text,
    )


def wrk(
    url: str,
    connections: int,
    duration: float,
    threads: int = 1,
    server: Server | None = None,
    cpus: set[int] | None = None,
    script: Path | None = None,
) -> WrkResult:
    """wrk against `url` (on `cpus` only, when given; with a Lua `script`, which may choose
    each request's path); with `server`, also the CPU its process tree spent per request."""
    threads = max(1, min(threads, connections))
    pin = ["taskset", "-c", ",".join(map(str, sorted(cpus)))] if cpus else []
    argv = [
        *pin,
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        *(["-s", str(script)] if script else []),
        url,
    ]
    before = tree_cpu_seconds(server) if server is not None else 0.0
    out = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration + 30, check=False
    ).stdout
    try:
        result = parse_wrk(out)
    except (AttributeError, KeyError, ValueError) as exc:
        raise RuntimeError(f"cannot parse wrk output for {url}:\n{out}") from exc
    if server is not None and result.requests:
        result.cpu_us = (tree_cpu_seconds(server) - before) / result.requests * 1e6
    return result


# --- proxy metrics ---------------------------------------------------------------------------


def metric_sum(text: str, name: str) -> float:
    """Sum of all samples of one Prometheus metric (all label sets)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            with contextlib.suppress(ValueError, IndexError):
                total += float(line.rsplit(None, 1)[1])
    return total


def proxy_metrics(base_url: str) -> str:
    status, body, _ = http_get(base_url + "/metrics", timeout=30)
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return body.decode()


# --- the servers under test ------------------------------------------------------------------


def start_proxy(
    name: str, data_path: Path, env: dict[str, str], fresh_caches: bool, workers: int = 0
) -> Server:
    """`python -m proxy serve` with an env file under benchmarks/work/."""
    if fresh_caches:
        shutil.rmtree(data_path / "proxy_cache", ignore_errors=True)
    data_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {
        "DATA_PATH": str(data_path),
        "ACCESS_LOG": "off",
        "LOG_LEVEL": "warning",
        **env,
    }
    env_file = WORK / f"{name}.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    # BENCH_PROXY_DIR (a checkout of another commit, with its own .venv) runs that proxy
    # instead under the same harness: before/after figures from one run of the same tools.
    other = os.environ.get("BENCH_PROXY_DIR")
    code = Path(other) if other else ROOT
    python = code / ".venv" / "bin" / "python"
    argv = [str(python), "-m", "proxy", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--env-file", str(env_file)]
    if workers:
        argv += ["--workers", str(workers)]
    server = start_process(name, argv, port, WORK / "logs", cwd=code)
    server.extra["settings"] = settings
    # with workers, the supervisor listens first: wait until the workers answer too
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if http_get(server.url + "/health", timeout=5)[0] in (200, 503):
                break
        time.sleep(0.2)
    settle(server)
    return server


def previews_available(proxy: Server, source: str) -> tuple[bool, str]:
    """Whether /previews renders (it answered 404 before the feature landed)."""
    url = f"{proxy.url}/previews/q/rs:fit:64:0/q:70/plain/{source}"
    status, body, headers = http_get(url)
    if status == 200 and headers.get("Content-Type", "").startswith("image/"):
        return True, ""
    return False, f"`GET /previews/...` answered {status} ({body[:120]!r})"


NGINX_MAIN = """
worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    types {{ image/jpeg jpg jpeg; image/png png; image/tiff tif tiff; }}
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    log_format bytes '$request_uri $status $body_bytes_sent';
{servers}
}}
"""


def start_nginx(name: str, servers: str, workers: int | str = "auto") -> Server:
    """nginx in the foreground with a generated config; `servers` holds server/cache blocks.

    The first `listen` in `servers` is the port waited on.
    """
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        raise RuntimeError("nginx is not installed")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf_dir = WORK / "nginx" / name
    shutil.rmtree(conf_dir, ignore_errors=True)
    (conf_dir / "tmp").mkdir(parents=True)
    conf = conf_dir / "nginx.conf"
    conf.write_text(NGINX_MAIN.format(workers=workers, dir=conf_dir, servers=servers))
    port = int(re.search(r"listen\s+[\d.]+:(\d+)", servers).group(1))  # type: ignore[union-attr]
    return start_process(
        name, [nginx, "-c", str(conf), "-p", str(conf_dir)], port, WORK / "logs", wait=20
    )


THUMBOR_CONF = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = {result_storage!r}
RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = {result_root!r}
RESULT_STORAGE_STORES_UNSAFE = True
ALLOW_UNSAFE_URL = True
QUALITY = 70
MAX_AGE = 86400
AUTO_WEBP = False
RESPECT_ORIENTATION = False
ENGINE_THREADPOOL_SIZE = 0
"""


def thumbor_installed() -> bool:
    return (THUMBOR_VENV / "bin" / "thumbor").exists()


def start_thumbor(name: str, storage_root: Path, processes: int, result_storage: bool) -> Server:
    if not thumbor_installed():
        raise RuntimeError("thumbor is not installed (benchmarks/run.sh installs it)")
    result_root = WORK / "thumbor-results" / name
    shutil.rmtree(result_root, ignore_errors=True)
    result_root.mkdir(parents=True)
    conf = WORK / f"{name}.conf"
    conf.write_text(
        THUMBOR_CONF.format(
            root=str(storage_root),
            result_storage=(
                "thumbor.result_storages.file_storage"
                if result_storage
                else "thumbor.result_storages.no_storage"
            ),
            result_root=str(result_root),
        )
    )
    port = free_port()
    argv = [str(THUMBOR_VENV / "bin" / "thumbor"), "-p", str(port), "-i", HOST, "-c", str(conf)]
    argv += ["-l", "error", "--processes", str(processes)]
    server = start_process(name, argv, port, WORK / "logs", wait=60)
    settle(server)
    return server


S3_ACCESS_KEY = "bench"
S3_SECRET_KEY = "bench-secret"


def s3_bucket(moto: Server) -> Any:
    """A boto3 client of moto with the benchmark's bucket made; what a scenario uploads with."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto.url,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=BUCKET)
    return s3


def s3_settings(moto: Server) -> dict[str, str]:
    """The proxy's settings for the benchmark's bucket in moto."""
    return {
        "STORAGE_PROVIDER": "minio",
        "STORAGE_ENDPOINT": HOST,
        "STORAGE_PORT": str(moto.port),
        "STORAGE_ACCESS_KEY": S3_ACCESS_KEY,
        "STORAGE_SECRET_KEY": S3_SECRET_KEY,
        "STORAGE_BUCKETS": BUCKET,
    }


def start_moto() -> Server:
    port = free_port()
    argv = [str(ROOT / ".venv" / "bin" / "moto_server"), "-H", HOST, "-p", str(port)]
    return start_process("moto", argv, port, WORK / "logs", wait=60)


def tool_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].strip() if text else "?"


def python_exe() -> str:
    return sys.executable


# --- run context -----------------------------------------------------------------------------


@dataclass
class Section:
    """One scenario's part of results.md."""

    key: str
    title: str
    intro: str = ""
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    skipped: str = ""
    seconds: float = 0.0


@dataclass
class Context:
    quick: bool
    cores: int
    previews_ok: bool = False
    previews_note: str = ""
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 0
    started: list[Server] = field(default_factory=list)

    def seconds(self, quick: float, full: float) -> float:
        return quick if self.quick else full

    @contextlib.contextmanager
    def server(self, server: Server):
        """Stops the server when the block ends, whatever happens."""
        self.started.append(server)
        try:
            yield server
        finally:
            server.stop()
            self.started.remove(server)

    def stop_all(self) -> None:
        for server in list(self.started):
            server.stop()
        self.started.clear()
