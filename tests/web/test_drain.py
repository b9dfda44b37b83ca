"""Shutdown: open keep-alive connections are closed, and the last buffered bytes get out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket

from proxy.server import run_worker
from proxy.web.drain import flush
from tests.server_process import free_port


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


async def test_a_worker_told_to_stop_closes_its_idle_keep_alive_connections(make_settings):
    port = free_port()
    worker = asyncio.create_task(run_worker(make_settings(), "127.0.0.1", port, reuse_port=False))
    loop = asyncio.get_running_loop()
    try:
        for _ in range(1000):  # until it listens
            try:
                idle = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                await asyncio.sleep(0.01)
        with idle:
            idle.setblocking(False)
            await loop.sock_sendall(idle, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += await loop.sock_recv(idle, 65536)
            assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" not in answer
            os.kill(os.getpid(), signal.SIGTERM)  # what the supervisor sends
            await asyncio.wait_for(worker, 30)
            assert await asyncio.to_thread(closed_by_server, idle)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def connected_pair() -> tuple[asyncio.StreamWriter, socket.socket, asyncio.Server]:
    """A server-side transport and the client's blocking socket, with small buffers."""
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await asyncio.get_running_loop().sock_connect(client, server.sockets[0].getsockname())
    writer = await accepted
    writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return writer, client, server


def read_to_end(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_flush_waits_until_a_slow_client_has_every_byte():
    writer, client, server = await connected_pair()
    body = os.urandom(4 << 20)
    try:
        writer.write(body)  # far more than the socket buffers hold: the rest waits in ours
        writer.close()  # what aiohttp's shutdown does: the close waits for the buffer
        transport = writer.transport
        assert transport.get_write_buffer_size() > 0
        flushing = asyncio.create_task(flush([transport], timeout=30))
        for _ in range(3):
            await asyncio.sleep(0)
        assert not flushing.done()  # the client has not read yet
        reading = asyncio.create_task(asyncio.to_thread(read_to_end, client))
        await flushing
        assert transport.get_write_buffer_size() == 0
        assert await reading == body
    finally:
        client.close()
        server.close()


async def test_flush_gives_up_after_its_timeout_on_a_client_that_never_reads():
    writer, client, server = await connected_pair()
    try:
        writer.write(os.urandom(4 << 20))
        await flush([writer.transport], timeout=0.2)  # returns, though bytes are left
        assert writer.transport.get_write_buffer_size() > 0
        await flush([], timeout=30)  # nothing to wait for: at once
    finally:
        writer.transport.abort()
        client.close()
        server.close()
