"""Letting the last bytes out on shutdown.

aiohttp's graceful stop waits for handlers to return, then closes each connection; a close
still flushes what the transport holds, but only while the event loop runs. A slow client's
last buffered bytes would be lost when the worker's loop ends, so the worker waits for those
buffers to empty (bounded) before it exits.
"""

from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

TRANSPORTS = web.AppKey("transports", weakref.WeakSet)


def remember(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        request.app[TRANSPORTS].add(transport)


async def flush(app: web.Application, timeout: float) -> None:
    transports = app[TRANSPORTS]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline and any(t.get_write_buffer_size() for t in list(transports)):
        await asyncio.sleep(0.05)
