import http.client
import signal
import time

import pytest

from tests.server_process import ServerProcess

MIB = 1 << 20


def sparse_object(data_path, key: str, size: int) -> None:
    path = data_path / "storage" / "abc-public" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)


def download(server: ServerProcess, path: str, chunk: int = MIB) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    assert response.status == 200
    total = 0
    while data := response.read(chunk):
        total += len(data)
    conn.close()
    return total


@pytest.mark.parametrize(
    "max_object", ["1m", "512m"], ids=["streamed-uncached", "through-the-cache"]
)
def test_memory_does_not_grow_with_object_size(data_path, tmp_path, max_object):
    size = 256 * MIB
    sparse_object(data_path, "big.bin", size)
    env = {
        "DATA_PATH": str(data_path),
        "CACHE_MAX_OBJECT_SIZE": max_object,
        "CACHE_STORAGE_SIZE": "1g",
    }
    with ServerProcess(env, tmp_path) as server:
        before = server.peak_rss()
        assert download(server, "/abc-public/big.bin") == size
        assert download(server, "/abc-public/big.bin") == size
        grown = server.peak_rss() - before
        server.stop()
    assert grown < 64 * MIB, f"peak RSS grew by {grown / MIB:.1f} MiB"


def test_sigterm_lets_in_flight_requests_finish(data_path, tmp_path):
    size = 64 * MIB
    sparse_object(data_path, "slow.bin", size)
    env = {"DATA_PATH": str(data_path), "SHUTDOWN_TIMEOUT": "20s"}
    with ServerProcess(env, tmp_path) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/abc-public/slow.bin")
        response = conn.getresponse()
        received = len(response.read(MIB))
        server.proc.send_signal(signal.SIGTERM)
        # New connections are refused (once the signal is handled) while the old one is
        # served to the end.
        deadline = time.monotonic() + 10
        while answers_health(server.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        while data := response.read(MIB):
            received += len(data)
            time.sleep(0.01)
        assert received == size
        assert server.proc.wait(timeout=30) == 0
    staging = data_path / "proxy_cache" / "storage" / "staging"
    assert not list(staging.iterdir())


def test_shutdown_cuts_slow_clients_and_leaves_no_half_written_entry(data_path, tmp_path):
    import sqlite3

    size = 200 * MIB
    sparse_object(data_path, "huge.bin", size)
    env = {
        "DATA_PATH": str(data_path),
        "SHUTDOWN_TIMEOUT": "1s",
        "CACHE_MAX_OBJECT_SIZE": "512m",
        "CACHE_STORAGE_SIZE": "1g",
    }
    with ServerProcess(env, tmp_path) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/abc-public/huge.bin")
        response = conn.getresponse()
        response.read(64 * 1024)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
    index = data_path / "proxy_cache" / "storage" / "index.sqlite"
    rows = sqlite3.connect(index).execute("SELECT key, size FROM entries").fetchall()
    assert rows in ([], [("abc-public/huge.bin", size)])  # never a partial entry
    staging = data_path / "proxy_cache" / "storage" / "staging"
    assert not list(staging.iterdir())


def answers_health(port: int) -> bool:
    try:
        fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        fresh.request("GET", "/health")
        fresh.getresponse()
    except OSError:
        return False
    return True
