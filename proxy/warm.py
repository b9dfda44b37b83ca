"""`python -m proxy cache warm [FILE|-]`: fill the caches ahead of traffic.

Each line is a path (`/bucket/key`, `/previews/...`, `/image-converter/...`) or a full URL
of the proxy; it is requested from the running server, so warming goes through exactly the
path a client takes, and is safe while the server runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from tqdm import tqdm

from proxy.progress import progress_bar
from proxy.units import format_size

# Exit statuses, as the README lists them.
OK, FAILED, USAGE = 0, 1, 2


class Unreachable(Exception):
    """Nothing answers at the server's URL; the message says where and what to do."""


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


def connect_failure(base_url: str, exc: aiohttp.ClientConnectorError) -> str:
    error = exc.os_error
    # asyncio's strerror repeats the address ("Connect call failed (...)"): the errno's words.
    reason = os.strerror(error.errno) if error.errno else str(error) or type(exc).__name__
    return (
        f"cannot connect to {base_url} ({reason}): is `python -m proxy serve` running there? "
        "--url names another server"
    )


async def reachable(session: aiohttp.ClientSession, base_url: str) -> None:
    """Raise Unreachable when nothing listens at `base_url`, before any path is tried."""
    try:
        async with session.get(base_url.rstrip("/") + "/health") as response:
            await response.read()  # any answer, even a 503, means a server is there
    except aiohttp.ClientConnectorError as exc:
        raise Unreachable(connect_failure(base_url, exc)) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise Unreachable(f"{base_url} does not answer: {exc or type(exc).__name__}") from None


async def warm_paths(
    session: aiohttp.ClientSession,
    base_url: str,
    paths: list[str],
    concurrency: int,
    bar: tqdm[Any],
) -> list[tuple[str, str]]:
    failures: list[tuple[str, str]] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    received = 0

    async def worker() -> None:
        nonlocal received
        while not queue.empty():
            path = queue.get_nowait()
            url = base_url.rstrip("/") + path
            try:
                async with session.get(url) as response:
                    async for chunk in response.content.iter_chunked(1 << 16):
                        received += len(chunk)
                    if response.status != 200:
                        failures.append((path, f"{response.status} {response.reason}"))
            except aiohttp.ClientConnectorError as exc:
                failures.append((path, connect_failure(base_url, exc)))
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append((path, f"{type(exc).__name__} from {url} {exc}".rstrip()))
            bar.set_postfix_str(format_size(received), refresh=False)
            bar.update(1)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return failures


async def warm_all(
    base_url: str, paths: list[str], concurrency: int, bearer: str | None = None
) -> list[tuple[str, str]]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        await reachable(session, base_url)
        with progress_bar(len(paths), desc="warm", unit="path") as bar:
            return await warm_paths(session, base_url, paths, concurrency, bar)


def warm(source: str, base_url: str, concurrency: int, *, bearer: str | None = None) -> int:
    try:
        paths = [to_path(line) for line in read_lines(source)]
    except OSError as exc:
        print(f"error: cannot read {source}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE
    try:
        failures = asyncio.run(warm_all(base_url, paths, concurrency, bearer))
    except Unreachable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FAILED
    print(f"warmed {len(paths) - len(failures)} of {len(paths)}; {len(failures)} failed")
    for path, reason in failures:
        print(f"  failed: {path}: {reason}")
    return FAILED if failures else OK
