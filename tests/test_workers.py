"""`serve --workers N`: N processes on one port, sharing caches, single flight and metrics."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.conftest import metric_value
from tests.server_process import ServerProcess


def metrics(server: ServerProcess) -> str:
    with urllib.request.urlopen(server.base + "/metrics", timeout=10) as response:
        return response.read().decode()


def worker_pids(server: ServerProcess) -> set[int]:
    children = f"/proc/{server.proc.pid}/task/{server.proc.pid}/children"
    with open(children) as f:
        return {int(p) for p in f.read().split()}


async def fetch_many(url: str, count: int) -> list[tuple[int, bytes]]:
    async def one() -> tuple[int, bytes]:
        # A connection each, so the kernel spreads them over the workers.
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, await response.read()

    return await asyncio.gather(*(one() for _ in range(count)))


def test_workers_share_one_cache_and_report_summed_metrics(data_path, tmp_path):
    # Whether a second worker joins the first one's fill in flight or finds the entry made
    # depends on timing here; tests/cache/test_shared.py holds the fill-sharing mechanism
    # itself, deterministically. This one holds the whole: one store read, counts summed.
    body = os.urandom(2 << 20)
    (data_path / "storage" / "abc-public" / "one.bin").write_bytes(body)
    env = {"DATA_PATH": str(data_path)}
    with ServerProcess(env, tmp_path, args=("--workers", "3")) as server:
        deadline = time.monotonic() + 20
        while len(worker_pids(server)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        results = asyncio.run(fetch_many(server.base + "/abc-public/one.bin", 50))
        assert all(status == 200 and data == body for status, data in results)
        # Each worker adds its request counts to the shared metrics in batches (web/tally.py),
        # at most FLUSH_AFTER seconds after the request; poll until the last batch is in.
        wait_for(
            lambda: (
                metric_value(
                    metrics(server), "proxy_http_requests_total", route="original", status="200"
                )
                == 50
            ),
            "50 requests counted across the workers",
        )
        assert metric_value(metrics(server), "proxy_storage_reads_total", provider="http") == 1
        server.stop()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_dead_worker_is_replaced(data_path, tmp_path):
    env = {"DATA_PATH": str(data_path)}
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        wait_for(lambda: server.listeners() == 2, "both workers to listen")
        victim = min(worker_pids(server))
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: victim not in (pids := worker_pids(server)) and len(pids) == 2,
            "a new worker in place of the dead one",
        )
        wait_for(lambda: server.listeners() == 2, "the new worker to listen")
        with urllib.request.urlopen(server.base + "/health", timeout=10) as response:
            assert response.status == 200
            # Every worker, the replacement too, knows it shares the machine with another.
            assert json.loads(response.read())["memory"]["workers"] == 2
        server.stop()
        assert server.proc.returncode == 0


def test_workers_stop_when_the_supervisor_is_killed(data_path, tmp_path):
    env = {"DATA_PATH": str(data_path)}
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        wait_for(lambda: server.listeners() == 2, "both workers to listen")
        workers = worker_pids(server)
        server.proc.kill()  # no chance to stop its workers itself
        server.proc.wait()
        wait_for(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to stop")
        assert server.listeners() == 0


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # An orphan that exited may linger as a zombie until its new parent reaps it.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_four_workers_start_together_on_a_damaged_cache_and_serve(data_path, tmp_path):
    body = os.urandom(300_000)
    (data_path / "storage" / "abc-public" / "one.bin").write_bytes(body)
    env = {"DATA_PATH": str(data_path)}
    with ServerProcess(env, tmp_path, args=("--workers", "1")) as server:
        with urllib.request.urlopen(server.base + "/abc-public/one.bin", timeout=10) as answer:
            assert answer.read() == body
        server.stop()
    for name in ("storage", "previews", "image_converter"):
        index = data_path / "proxy_cache" / name / "index.sqlite"
        index.write_bytes(index.read_bytes()[:1000])  # a power cut, a bad disk
    with ServerProcess(env, tmp_path, args=("--workers", "4")) as server:
        wait_for(lambda: server.listeners() == 4, "all four workers to listen")
        with urllib.request.urlopen(server.base + "/abc-public/one.bin", timeout=10) as answer:
            assert answer.read() == body
            assert answer.headers["X-Cache-Status"] == "MISS"  # the entry comes back
        output = server.stop()
    assert "exited with" not in output  # no worker died on the way
    assert output.count("was damaged") == 3  # once per cache, by whichever worker was first
    moved = list((data_path / "proxy_cache" / "storage").glob("index.sqlite.damaged-*"))
    assert len(moved) == 1


def test_the_supervisor_gives_up_when_new_workers_keep_dying_at_start(data_path, tmp_path):
    # Workers read the env file when they start: an operator's edit that breaks it makes every
    # replacement die at once. Restarting them for ever would hide that; the supervisor stops.
    env_file = tmp_path / "proxy.env"
    env_file.write_text(f"DATA_PATH={data_path}\n")
    args = ("--workers", "2", "--env-file", str(env_file))
    with ServerProcess({}, tmp_path, args=args) as server:
        wait_for(lambda: server.listeners() == 2, "both workers to listen")
        env_file.write_text(f"DATA_PATH={data_path}\nCACHE_STORAGE_SIZE=a lot\n")
        os.kill(min(worker_pids(server)), signal.SIGKILL)
        assert server.proc.wait(timeout=60) == 1
        output = server.stop()
    assert "workers keep dying at start" in output
    assert "CACHE_STORAGE_SIZE" in output


def test_two_workers_check_each_original_once_per_interval_and_read_no_body(data_path, tmp_path):
    names = [f"r{i}.jpg" for i in range(3)]
    for name in names:
        (data_path / "storage" / "abc-public" / name).write_bytes(os.urandom(50_000))
    env = {"DATA_PATH": str(data_path), "CACHE_STORAGE_REVALIDATE": "1s"}
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        wait_for(lambda: server.listeners() == 2, "both workers to listen")
        for name in names:
            with urllib.request.urlopen(f"{server.base}/abc-public/{name}", timeout=10) as r:
                r.read()
        text = metrics(server)
        heads = metric_value(text, "proxy_storage_heads_total", provider="http")
        reads = metric_value(text, "proxy_storage_reads_total", provider="http")
        # The interval is what is tested: let it pass once, then 50 hits per object at once.
        time.sleep(1.2)

        async def burst() -> list[tuple[int, bytes]]:
            found = await asyncio.gather(
                *(fetch_many(f"{server.base}/abc-public/{name}", 50) for name in names)
            )
            return [item for batch in found for item in batch]

        assert all(status == 200 for status, _ in asyncio.run(burst()))
        wait_for(
            lambda: (
                metric_value(metrics(server), "proxy_revalidations_total", outcome="unchanged")
                >= len(names)
            ),
            "each original checked",
        )
        text = metrics(server)
        assert metric_value(text, "proxy_storage_heads_total", provider="http") - heads == 3
        assert metric_value(text, "proxy_storage_reads_total", provider="http") == reads
        server.stop()


def _maps(pid: int, library: str) -> bool:
    with open(f"/proc/{pid}/maps") as f:
        return library in f.read()


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def test_only_render_processes_load_libvips_and_bad_settings_are_still_refused(
    data_path, tmp_path, jpeg_bytes
):
    # libvips, numpy, Pillow and FFmpeg are some 45 MiB a process. The supervisor has the
    # presets and the watermark checked by a forked child, and a worker hands every decode
    # to its render processes, so only those load them, even once a preview is made.
    env = {"DATA_PATH": str(data_path), "PREVIEWS_PRESETS": "thumb=rs:fit:100:100"}
    (data_path / "storage" / "abc-public" / "a.jpg").write_bytes(jpeg_bytes)
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        wait_for(lambda: server.listeners() == 2, "both workers to listen")
        for width in (50, 60, 70, 80):  # over new connections: the kernel spreads them
            url = f"{server.base}/previews/_/rs:fit:{width}:0/plain/abc-public/a.jpg"
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.headers["Content-Type"] == "image/jpeg"
        workers = worker_pids(server)
        renderers = set().union(*(_children(pid) for pid in workers))
        assert renderers, "the previews were made in render processes"
        for pid in {server.proc.pid, *workers}:
            assert not _maps(pid, "libvips"), pid
            assert not _maps(pid, "libavcodec"), pid
        assert all(_maps(pid, "libvips") for pid in renderers)
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "serve", "--workers", "2", "--port", "1"],
        env={**os.environ, **env, "PREVIEWS_PRESETS": "bad=nonsense:1"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == "error: PREVIEWS_PRESETS: preset 'bad': unknown option 'nonsense'"
