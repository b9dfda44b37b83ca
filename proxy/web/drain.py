"""Letting the last bytes out on shutdown.

aiohttp's graceful stop waits for handlers to return, then closes each connection; a close
still flushes what the transport holds, but only while the event loop runs. A slow client's
last buffered bytes would be lost when the worker's loop ends, so the worker waits for those
buffers to empty (bounded) before it exits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def flush(transports: Iterable[asyncio.BaseTransport], timeout: float) -> None:
    """Wait (at most `timeout`) until no transport holds bytes it has not sent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline and any(_unsent(t) for t in list(transports)):
        await asyncio.sleep(0.05)


def _unsent(transport: asyncio.BaseTransport) -> int:
    return transport.get_write_buffer_size() if isinstance(transport, asyncio.WriteTransport) else 0
