"""`python -m proxy cache warm [FILE|-]`: fill the caches ahead of traffic.

Each line is a path (`/bucket/key`, `/previews/...`, `/image-converter/...`) or a full URL
of the proxy; it is requested from the running server, so warming goes through exactly the
path a client takes, and is safe while the server runs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp

from proxy.progress import Progress


def read_lines(source: str) -> list[str]:
    if source == "-":
        return _paths(sys.stdin)
    with open(source, encoding="utf-8") as stream:
        return _paths(stream)


def _paths(lines: Iterable[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def to_path(line: str) -> str:
    """Only the path and query: warming never sends requests anywhere but the proxy."""
    if "://" in line:
        parts = urlsplit(line)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return line if line.startswith("/") else "/" + line


async def warm_paths(
    base_url: str, paths: list[str], concurrency: int, progress: Progress
) -> list[tuple[str, str]]:
    failures: list[tuple[str, str]] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    timeout = aiohttp.ClientTimeout(total=300)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            size = 0
            try:
                async with session.get(base_url.rstrip("/") + path) as response:
                    async for chunk in response.content.iter_chunked(1 << 16):
                        size += len(chunk)
                    if response.status != 200:
                        failures.append((path, f"{response.status} {response.reason}"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append((path, type(exc).__name__))
            progress.advance(1, size)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(max(1, concurrency))))
    return failures


def warm(source: str, base_url: str, concurrency: int) -> int:
    paths = [to_path(line) for line in read_lines(source)]
    progress = Progress(len(paths), 0, label="warm")
    failures = asyncio.run(warm_paths(base_url, paths, concurrency, progress))
    progress.finish()
    print(f"warmed {len(paths) - len(failures)} of {len(paths)}; {len(failures)} failed")
    for path, reason in failures:
        print(f"  failed: {path}: {reason}")
    return 1 if failures else 0
