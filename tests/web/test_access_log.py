import asyncio
import json
import os

from proxy.web.access_log import PIPE_BUF, AccessLog, _pieces


async def test_lines_go_out_in_batches_without_a_flush(tmp_path):
    path = tmp_path / "access.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    log = AccessLog(fd)
    try:
        log.record("GET", '/a "b"\n\x01', 200, 5, 0.0012, "HIT", "127.0.0.1")
        log.record("HEAD", "/é", 304, 0, 0.5, "-", None)
        for _ in range(500):  # the flush timer
            if path.stat().st_size:
                break
            await asyncio.sleep(0.01)
        first, second = (json.loads(line) for line in path.read_text().splitlines())
        assert first == {
            "method": "GET", "path": '/a "b"\n\x01', "status": 200, "bytes": 5, "ms": 1.2,
            "cache": "HIT", "remote": "127.0.0.1",
        }  # fmt: skip
        assert second["path"] == "/é" and second["remote"] is None
    finally:
        log.close()
        os.close(fd)


def test_a_batch_is_cut_at_line_ends_into_atomic_writes():
    lines = [f"{i:05d}".encode() * (i % 40 + 1) + b"\n" for i in range(2000)]
    data = b"".join(lines)
    pieces = _pieces(data)
    assert b"".join(pieces) == data
    assert all(p.endswith(b"\n") and len(p) <= PIPE_BUF for p in pieces)
    long = b"x" * (PIPE_BUF * 2) + b"\n"
    assert _pieces(b"a\n" + long + b"b\n") == [b"a\n", long, b"b\n"]


async def test_into_a_regular_file_the_loop_writes_a_batch_itself(tmp_path):
    path = tmp_path / "access.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    log = AccessLog(fd)
    try:
        for i in range(300):
            log.record("GET", f"/{i}", 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()
        # Written by the time flush returns, and no writer thread was started.
        lines = path.read_text().splitlines()
        assert [json.loads(line)["bytes"] for line in lines] == list(range(300))
        assert log._thread is None
    finally:
        log.close()
        os.close(fd)


async def test_into_a_pipe_a_thread_writes_whole_lines(tmp_path):
    read_end, write_end = os.pipe()
    log = AccessLog(write_end)
    try:
        for i in range(2000):
            log.record("GET", "/" + "x" * (i % 300), 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()
        assert log._thread is not None and log._thread.is_alive()
        data = b""
        while data.count(b"\n") < 2000:
            data += await asyncio.to_thread(os.read, read_end, 1 << 16)
        assert [json.loads(line)["bytes"] for line in data.splitlines()] == list(range(2000))
    finally:
        log.close()
        os.close(write_end)
        os.close(read_end)
