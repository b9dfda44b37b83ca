"""A turn of the server's loop takes at most TURN_EVENTS ready sockets, and every ready
socket gets its turn."""

from __future__ import annotations

import asyncio
import selectors
import socket

from proxy.web.fair_loop import TURN_EVENTS, FairSelector, new_loop


def test_a_turn_takes_a_few_ready_sockets_and_each_gets_its_turn():
    pairs = [socket.socketpair() for _ in range(3 * TURN_EVENTS + 1)]
    selector = FairSelector()
    try:
        for reader, writer in pairs:
            selector.register(reader, selectors.EVENT_READ)
            writer.send(b"x")  # every one ready, and it stays ready: nobody reads it
        turns = [{key.fileobj for key, _ in selector.select(0)} for _ in range(4)]
        assert [len(turn) for turn in turns] == [TURN_EVENTS] * 3 + [TURN_EVENTS]
        assert set().union(*turns[:3]) | turns[3] == {reader for reader, _ in pairs}
        assert not turns[0] & turns[1] and not turns[1] & turns[2]
    finally:
        selector.close()
        for reader, writer in pairs:
            reader.close()
            writer.close()


def test_the_loop_answers_as_any_loop_does():
    loop = new_loop()
    try:
        assert isinstance(loop._selector, FairSelector)  # type: ignore[attr-defined]

        async def echo_once() -> bytes:
            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                writer.write(await reader.readexactly(5))
                await writer.drain()
                writer.close()

            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"hello")
            answer = await reader.read()
            writer.close()
            server.close()
            await server.wait_closed()
            return answer

        assert loop.run_until_complete(echo_once()) == b"hello"
    finally:
        loop.close()
