"""Which event loop a server process runs on (`EVENT_LOOP`).

asyncio's, with turns of at most 8 ready sockets (`fair_loop.py`), is the default: its lag
stays short under load. uvloop (libuv) costs less CPU per request (see the cache-hit
benchmark's rows on both loops) but takes every ready socket in one turn, as asyncio's own
loop does. `auto` takes uvloop when it is installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable

from proxy.web.fair_loop import new_loop

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def chosen_loop(setting: str) -> tuple[str, LoopFactory]:
    """The loop's name and its factory; `uvloop` is known to be installed (the settings
    refuse it otherwise)."""
    if setting == "uvloop" or (setting == "auto" and importlib.util.find_spec("uvloop")):
        import uvloop

        return "uvloop", uvloop.new_event_loop
    return "asyncio", new_loop
