"""Slow headers, idle keep-alives and socket floods are closed (a real server process)."""

import asyncio
import fcntl
import json
import os
import re
import socket
import struct
import termios
import time
import urllib.request

import pytest
from aiohttp import web, web_protocol, web_server

from proxy.web import connections
from proxy.web.connections import Guard, GuardedRunner, GuardedServer
from tests.fallbacks import without
from tests.server_process import ServerProcess


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within `seconds` (it sends EOF)."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def test_a_client_that_sends_headers_slowly_is_cut_off(data_path, tmp_path):
    env = {"DATA_PATH": str(data_path), "HTTP_HEADER_TIMEOUT": "1s", "HTTP_IDLE_TIMEOUT": "60s"}
    with ServerProcess(env, tmp_path) as server:
        slow = [connect(server) for _ in range(50)]
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the end
        silent = connect(server)  # connects, says nothing
        started = time.monotonic()
        assert all(closed_within(sock, 15) for sock in [*slow, silent])
        assert time.monotonic() - started < 15
        with urllib.request.urlopen(server.base + "/health", timeout=5) as answer:
            assert answer.status == 200  # real clients are still served
        server.stop()


def test_an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not(data_path, tmp_path):
    env = {"DATA_PATH": str(data_path), "HTTP_HEADER_TIMEOUT": "30s", "HTTP_IDLE_TIMEOUT": "1s"}
    with ServerProcess(env, tmp_path) as server:
        idle, busy = connect(server), connect(server)
        request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        idle.sendall(request)
        assert b"200 OK" in idle.recv(65536)
        deadline = time.monotonic() + 3  # well past the idle timeout, asking all along
        while time.monotonic() < deadline:
            busy.sendall(request)
            assert b"200 OK" in busy.recv(65536)
            time.sleep(0.2)
        assert closed_within(idle, 15)
        busy.sendall(request)
        assert b"200 OK" in busy.recv(65536)
        server.stop()


def test_a_flood_of_idle_sockets_does_not_starve_real_clients(data_path, tmp_path):
    env = {"DATA_PATH": str(data_path), "HTTP_MAX_CONNECTIONS": "16"}
    with ServerProcess(env, tmp_path) as server:
        flood = [connect(server) for _ in range(60)]
        for _ in range(3):
            with urllib.request.urlopen(server.base + "/health", timeout=5) as answer:
                assert answer.status == 200
        cut = sum(closed_within(sock, 0.5) for sock in flood)
        assert cut >= 60 - 16
        for sock in flood:
            sock.close()
        server.stop()


BIG = 8 << 20  # past SMALL_BODY: sent with sendfile once cached, streamed while it fills


def put_big(data_path, name: str) -> bytes:
    body = os.urandom(BIG)
    (data_path / "storage" / "abc-public" / name).write_bytes(body)
    return body


def stalled_download(server: ServerProcess, path: str) -> socket.socket:
    """Asks for a large body and reads none of it (a small window, so the kernel fills up)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def cut_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server ends the connection within `seconds`, seen without reading from it
    (reading would be the progress that keeps it open): the socket's own TCP state."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
        if state in (7, 8):  # TCP_CLOSE (reset), TCP_CLOSE_WAIT (the server's FIN)
            return True
        time.sleep(0.05)
    return False


def answering(sock: socket.socket, seconds: float = 10) -> bool:
    """Whether the answer's first bytes arrive (seen without taking them)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]:
            return True
        time.sleep(0.05)
    return False


def fetch(server: ServerProcess, path: str) -> bytes:
    with urllib.request.urlopen(server.base + path, timeout=30) as answer:
        return bytes(answer.read())


def access_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"@timestamp"')]


def test_a_client_that_reads_nothing_is_cut_after_the_send_timeout(data_path, tmp_path):
    put_big(data_path, "cached.bin")
    put_big(data_path, "filling.bin")
    env = {"DATA_PATH": str(data_path), "HTTP_SEND_TIMEOUT": "1s", "ACCESS_LOG": "on"}
    with ServerProcess(env, tmp_path) as server:
        fetch(server, "/abc-public/cached.bin")  # cached: the next one goes by sendfile
        stalled = [
            stalled_download(server, "/abc-public/cached.bin"),
            stalled_download(server, "/abc-public/filling.bin"),  # streamed as it fills
        ]
        started = time.monotonic()
        assert all(cut_within(sock, 10) for sock in stalled)
        assert time.monotonic() - started < 10
        output = server.stop()
    assert output.count("send timeout:") == 2, output
    assert "Traceback" not in output and "ERROR" not in output, output
    cut = [line for line in access_lines(output) if line.get("client_left")]
    assert len(cut) == 2, output
    for line in cut:  # the status that went out, and the part of the body the kernel took
        assert line["status"] == 200 and 0 < int(line["bytes"]) < BIG, line  # type: ignore[call-overload]


def test_a_client_that_reads_slowly_is_not_cut(data_path, tmp_path):
    body = put_big(data_path, "big.bin")
    env = {"DATA_PATH": str(data_path), "HTTP_SEND_TIMEOUT": "1s"}
    with ServerProcess(env, tmp_path) as server:
        fetch(server, "/abc-public/big.bin")
        sock = stalled_download(server, "/abc-public/big.bin")
        received = b""
        deadline = time.monotonic() + 4  # four send timeouts, taking a little every 0.2 s
        while time.monotonic() < deadline:
            received += sock.recv(16384)
            time.sleep(0.2)  # the slow reader itself, not a synchronisation
        sock.settimeout(30)
        # Until the whole body is in: the head counts for nothing (the loop once stopped at
        # BIG bytes with the head, the body's last few hundred bytes still on their way).
        while len(received.partition(b"\r\n\r\n")[2]) < BIG:
            chunk = sock.recv(1 << 20)
            assert chunk, "cut off"
            received += chunk
        assert received.partition(b"\r\n\r\n")[2] == body
        assert "send timeout" not in server.stop()


def test_clients_that_read_nothing_do_not_hold_every_slot(data_path, tmp_path):
    put_big(data_path, "big.bin")
    env = {"DATA_PATH": str(data_path), "HTTP_MAX_CONNECTIONS": "16", "HTTP_SEND_TIMEOUT": "1h"}
    with ServerProcess(env, tmp_path) as server:
        fetch(server, "/abc-public/big.bin")
        stalled = [stalled_download(server, "/abc-public/big.bin") for _ in range(16)]
        assert all(answering(sock) for sock in stalled)  # none is idle: none can be evicted
        # Refused while each of them is still taking its first bytes; then, once the checks
        # have seen them take nothing, one is evicted for the newcomer (the slot it frees
        # serves those after it).
        deadline, served = time.monotonic() + 6, 0  # checks every second
        while time.monotonic() < deadline and served < 3:
            try:
                with urllib.request.urlopen(server.base + "/health", timeout=5) as answer:
                    served += answer.status == 200
            except OSError:
                time.sleep(0.1)
        assert served == 3
        assert sum(cut_within(sock, 0.5) for sock in stalled) == 1
        for sock in stalled:
            sock.close()
        server.stop()


def test_a_client_that_leaves_mid_body_is_logged_as_served_not_as_an_error(data_path, tmp_path):
    put_big(data_path, "video.bin")
    env = {"DATA_PATH": str(data_path), "ACCESS_LOG": "on"}
    with ServerProcess(env, tmp_path) as server:
        fetch(server, "/abc-public/video.bin")
        for request in (
            b"GET /abc-public/video.bin HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /abc-public/video.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-\r\n\r\n",
        ):
            for reset in (True, False):  # a reset, or a close with unread data (a reset too)
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
                sock.sendall(request)
                got = 0
                while got < 200_000:
                    got += len(sock.recv(65536))
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
        fetch(server, "/health")  # still serving
        output = server.stop()
    assert "Traceback" not in output and "ERROR" not in output, output
    left = [line for line in access_lines(output) if line["path"] == "/abc-public/video.bin"]
    left = [line for line in left if line.get("client_left")]
    assert [line["status"] for line in left] == [200, 200, 206, 206], output
    assert all(200_000 <= int(line["bytes"]) < BIG for line in left), left  # type: ignore[call-overload]


INSIDES = [
    ((web.AppRunner, "_make_server"), (web.BaseRunner, "_make_server")),
    ((web_server.Server, "_kwargs"),),
    ((web_server.Server, "_connections"),),
    *(((web_protocol.RequestHandler, name),) for name in connections._HANDLER_INSIDES),
    ((web_protocol.RequestHandler, "_process_keepalive"),),
]


async def answers_of(runner: web.AppRunner) -> tuple[type, bytes]:
    """The type of a runner's server, and what it sends to two requests on one connection
    (Dates blanked)."""
    await runner.setup()
    kind = type(runner.server)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
        got = b""
        while got.count(b"hello") < 2:
            got += await reader.read(4096)
        writer.close()
        return kind, re.sub(rb"Date: [^\r]+", b"Date: -", got)
    finally:
        await runner.cleanup()


def app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    application = web.Application()
    application.router.add_get("/", hello)
    return application


GUARD = Guard(header_timeout=5.0, idle_timeout=30.0, max_connections=10)


@pytest.mark.parametrize("gone", INSIDES, ids=["_".join(n for _, n in g) for g in INSIDES])
async def test_without_an_internal_the_runner_keeps_aiohttps_own_server_answering_alike(gone):
    kind, on_fast = await answers_of(GuardedRunner(app(), guard=GUARD, access_log=None))
    assert kind is GuardedServer
    with without(connections.FAST, *gone) as problem:
        assert gone[0][1] in problem
        plain = GuardedRunner(app(), guard=GUARD, access_log=None)
        kind, on_public = await answers_of(plain)
        assert kind is web_server.Server  # aiohttp's own
        assert on_public == on_fast
