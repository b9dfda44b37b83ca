"""How late the event loop runs what is scheduled: a stalled loop, measured.

Every PERIOD a callback is scheduled and the delay between when it was due and when it ran
is recorded. A loop that runs blocking work (or is starved of CPU) shows here first, before
requests pile up.
"""

from __future__ import annotations

import asyncio
import contextlib

from proxy import metrics

PERIOD = 0.25


class LoopLag:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="loop-lag")

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        lag = metrics.EVENT_LOOP_LAG
        while True:
            due = loop.time() + PERIOD
            await asyncio.sleep(PERIOD)
            lag.observe(max(0.0, loop.time() - due))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
