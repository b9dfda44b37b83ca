import asyncio
import fcntl
import json
import os
import socket
import threading
import time
from datetime import UTC, datetime

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
        assert first.pop("@timestamp").endswith("Z")
        second.pop("@timestamp")
        assert first == {
            "method": "GET", "path": '/a "b"\n\x01', "status": 200, "bytes": 5, "ms": 1.2,
            "cache": "HIT", "remote": "127.0.0.1",
        }  # fmt: skip
        assert second["path"] == "/é" and second["remote"] is None
    finally:
        log.close()
        os.close(fd)


async def test_every_line_opens_with_its_time_in_utc_to_the_millisecond(tmp_path):
    path = tmp_path / "access.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    log = AccessLog(fd)
    try:
        before = time.time()
        for _ in range(3):
            log.record("GET", "/a", 200, 5, 0.001, "HIT", "127.0.0.1")
        log.record("GET", "/b", 206, 7, 0.001, "MISS", "127.0.0.1", left=True)
        after = time.time()
        log.flush()
        lines = path.read_text().splitlines()
    finally:
        log.close()
        os.close(fd)
    for line in lines:
        assert line.startswith('{"@timestamp":"')
        stamp = json.loads(line)["@timestamp"]
        assert len(stamp) == len("2026-12-07T06:19:31.123Z") and stamp.endswith("Z")
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert int(before * 1000) / 1000 <= when.timestamp() <= after + 0.001
    # Only the client that left says so.
    assert [json.loads(line).get("client_left") for line in lines] == [None, None, None, True]


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


async def test_into_a_pipe_with_room_the_loop_writes_whole_lines_itself():
    read_end, write_end = os.pipe()
    log = AccessLog(write_end)
    try:
        for i in range(200):  # about 30 KB: room in a pipe's 64 KiB
            log.record("GET", "/" + "x" * (i % 300), 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()
        assert log._thread is None  # written by the time flush returned
        data = os.read(read_end, 1 << 17)
        assert [json.loads(line)["bytes"] for line in data.splitlines()] == list(range(200))
        # Its own descriptor is the non-blocking one: the shared one still blocks.
        assert os.get_blocking(write_end)
    finally:
        log.close()
        os.close(write_end)
        os.close(read_end)


class HeldLog(AccessLog):
    """Its writer thread starts writing only once the test lets it."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd)
        self.go = threading.Event()

    def _write(self) -> None:
        self.go.wait()
        super()._write()


def drain(fd: int) -> bytes:
    os.set_blocking(fd, False)
    data = b""
    try:
        while chunk := os.read(fd, 1 << 16):
            data += chunk
    except BlockingIOError:
        pass
    os.set_blocking(fd, True)
    return data


async def test_a_full_pipe_hands_the_rest_to_a_thread_and_the_lines_stay_in_order():
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BUF)
    log = HeldLog(write_end)
    try:
        for i in range(100):  # more than the pipe holds: the rest waits in the thread
            log.record("GET", "/" + "x" * 100, 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()
        assert log._thread is not None
        data = drain(read_end)  # the pipe has room again, the thread still holds its part
        for i in range(100, 120):
            log.record("GET", "/" + "x" * 100, 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()  # must not jump the queue
        data += drain(read_end)
        log.go.set()
        while data.count(b"\n") < 120:
            data += await asyncio.to_thread(os.read, read_end, 1 << 16)
        assert [json.loads(line)["bytes"] for line in data.splitlines()] == list(range(120))
    finally:
        log.go.set()
        log.close()
        os.close(write_end)
        os.close(read_end)


async def test_into_a_socket_a_thread_writes_whole_lines():
    ours, theirs = socket.socketpair()
    log = AccessLog(ours.fileno())
    try:
        for i in range(2000):
            log.record("GET", "/" + "x" * (i % 300), 200, i, 0.001, "HIT", "127.0.0.1")
        log.flush()
        assert log._thread is not None and log._thread.is_alive()
        data = b""
        while data.count(b"\n") < 2000:
            data += await asyncio.to_thread(theirs.recv, 1 << 16)
        assert [json.loads(line)["bytes"] for line in data.splitlines()] == list(range(2000))
    finally:
        log.close()
        ours.close()
        theirs.close()
