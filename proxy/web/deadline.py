"""The per-request time limit covers making the answer, not sending a large body."""

from __future__ import annotations

import asyncio

from aiohttp import web

DEADLINE = web.RequestKey("deadline", asyncio.Timeout)


def lift_deadline(request: web.BaseRequest) -> None:
    """Called once the first byte is going out: a slow download is not a slow answer."""
    timeout: asyncio.Timeout | None = request.get(DEADLINE)
    if timeout is not None and timeout.expired() is False:
        timeout.reschedule(None)
