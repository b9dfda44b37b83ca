"""The framework's ceiling: bare aiohttp answering one body from memory, nothing else.

`python -m benchmarks.bare_aiohttp PORT FILE [PROCESSES] [--uvloop] [--headers JSON] [--lag PATH]`
serves
FILE's bytes at every path with the headers a proxy cache hit carries (or those in the JSON
file: the benchmark copies them from the proxy's own answer), from PROCESSES processes
sharing the port (SO_REUSEPORT), as the proxy's workers do. With `--lag`, each process also samples how
late its loop runs a callback, as the proxy's `proxy_event_loop_lag_seconds` does (every
0.25 s), and appends "<unix time> <seconds late>" lines to PATH.<pid>: the same measure of
the framework alone. No middleware, no metrics, no access log:
what is left of a hit's cost when everything of ours is gone.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from email.utils import formatdate
from pathlib import Path

from aiohttp import web


def app(body: bytes, headers: dict[str, str] | None = None) -> web.Application:
    headers = headers or {
        "Content-Type": "image/jpeg",
        "ETag": '"0123456789abcdef0123456789abcdef"',
        "Last-Modified": formatdate(1_700_000_000, usegmt=True),
        "Cache-Control": "max-age=86400",
        "X-Cache-Status": "HIT",
        "Accept-Ranges": "bytes",
    }

    async def hit(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    application = web.Application()
    application.router.add_get("/{tail:.*}", hit)
    return application


def sample_lag(path: Path) -> None:
    """The proxy's sampler (proxy/web/loop_lag.py): a plain callback, due every 0.25 s."""
    loop = asyncio.get_running_loop()
    out = open(f"{path}.{os.getpid()}", "a", buffering=1)  # noqa: SIM115 - open while serving

    def arm() -> None:
        due = loop.time() + 0.25
        loop.call_at(due, ran, due)

    def ran(due: float) -> None:
        out.write(f"{time.time()} {max(0.0, loop.time() - due)}\n")
        arm()

    arm()


async def serve(port: int, body: bytes, headers: dict[str, str] | None, lag: Path | None) -> None:
    runner = web.AppRunner(app(body, headers), access_log=None, handle_signals=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_port=True, backlog=1024)
    await site.start()
    if lag is not None:
        sample_lag(lag)
    await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    port, body = int(argv[0]), Path(argv[1]).read_bytes()
    processes = int(argv[2]) if len(argv) > 2 and argv[2].isdigit() else 1
    if "--uvloop" in argv:
        import uvloop

        uvloop.install()
    headers = None
    if "--headers" in argv:
        headers = json.loads(Path(argv[argv.index("--headers") + 1]).read_text())
    lag = Path(argv[argv.index("--lag") + 1]) if "--lag" in argv else None
    with socket.socket() as probe:  # fail early when the port is taken
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind(("127.0.0.1", port))
    for _ in range(processes - 1):
        if os.fork() == 0:
            break
    asyncio.run(serve(port, body, headers, lag))


if __name__ == "__main__":
    main(sys.argv[1:])
