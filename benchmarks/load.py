"""A small async load client (aiohttp) for loads wrk cannot express: every request a new URL."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp


@dataclass
class LoadResult:
    ok: int = 0
    failed: int = 0
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    bytes: int = 0
    cache_status: Counter = field(default_factory=Counter)
    first_error: str = ""
    retried_503: int = 0

    @property
    def per_s(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]


async def _fetch(
    session: aiohttp.ClientSession, url: str, result: LoadResult, retries: int = 0
) -> None:
    """One GET; a 503 (render queue full) is retried up to `retries` times after Retry-After."""
    t0 = time.perf_counter()
    try:
        async with session.get(url) as resp:
            body = await resp.read()
            if resp.status == 503 and retries > 0:
                result.retried_503 += 1
                try:
                    wait = min(2.0, float(resp.headers.get("Retry-After", "0.2")))
                except ValueError:
                    wait = 0.2
                await asyncio.sleep(max(0.05, wait))
                return await _fetch(session, url, result, retries - 1)
            result.statuses[resp.status] += 1
            result.cache_status[resp.headers.get("X-Cache-Status", "-")] += 1
            if resp.status == 200:
                result.ok += 1
                result.bytes += len(body)
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                result.failed += 1
                if not result.first_error:
                    result.first_error = f"{resp.status} {url}: {body[:160]!r}"
    except (TimeoutError, aiohttp.ClientError) as exc:
        result.failed += 1
        result.statuses["error"] += 1
        if not result.first_error:
            result.first_error = f"{type(exc).__name__} {url}: {exc}"


def _session(concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency, force_close=False),
        timeout=aiohttp.ClientTimeout(total=120),
        auto_decompress=False,
    )


async def _unique(
    make_url: Callable[[int], str], concurrency: int, duration: float, max_requests: int
) -> LoadResult:
    result = LoadResult()
    counter = itertools.count()
    deadline = time.monotonic() + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= max_requests:
                return
            await _fetch(session, make_url(i), result)

    async with _session(concurrency) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - t0
    return result


def run_unique(
    make_url: Callable[[int], str], concurrency: int, duration: float, max_requests: int
) -> LoadResult:
    """`concurrency` clients request make_url(0), make_url(1), ... until time or count runs out."""
    return asyncio.run(_unique(make_url, concurrency, duration, max_requests))


async def _clients(url_lists: list[list[str]], timeout: float, retries: int) -> LoadResult:
    result = LoadResult()
    deadline = time.monotonic() + timeout

    async def client(session: aiohttp.ClientSession, urls: list[str]) -> None:
        for url in urls:
            if time.monotonic() >= deadline:
                return
            await _fetch(session, url, result, retries)

    async with _session(len(url_lists)) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(session, urls) for urls in url_lists))
        result.elapsed = time.perf_counter() - t0
    return result


def run_clients(url_lists: list[list[str]], timeout: float, retries: int = 0) -> LoadResult:
    """One concurrent client per list, each fetching its URLs in order; bounded by `timeout`.

    A 503 is retried up to `retries` times (after Retry-After, at most 2 s), as a client would.
    """
    return asyncio.run(_clients(url_lists, timeout, retries))
