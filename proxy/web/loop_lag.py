"""How late the event loop runs what is scheduled: a stalled loop, measured.

Every PERIOD a callback is scheduled and the delay between when it was due and when it ran
is recorded. A loop that runs blocking work (or is starved of CPU) shows here first, before
requests pile up.
"""

from __future__ import annotations

import asyncio

from proxy import metrics

PERIOD = 0.25


class LoopLag:
    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._schedule(loop, loop.time() + PERIOD)

    def _schedule(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self._timer = loop.call_at(due, self._ran, loop, due)

    def _ran(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        # A plain callback, not a task woken by a sleep: a task would run one turn of the
        # loop after its timer, and add that turn to every sample.
        now = loop.time()
        metrics.EVENT_LOOP_LAG.observe(max(0.0, now - due))
        self._schedule(loop, now + PERIOD)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
