"""Slow headers, idle keep-alives and socket floods are closed (a real server process)."""

import asyncio
import re
import socket
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
