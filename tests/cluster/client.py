"""Concurrent clients for cluster tests: every request sent exactly as spelled, over kept-alive
connections, each answer kept whole for checking."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from tests.cluster.routing import Form


@dataclass(frozen=True)
class Answer:
    form: Form
    status: int
    body: bytes
    headers: CIMultiDictProxy[str]

    @property
    def node(self) -> str:
        return self.headers.get("X-Served-By", "?")

    @property
    def cache(self) -> str:
        return self.headers.get("X-Cache-Status", "-")


def session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, force_close=False),
        timeout=aiohttp.ClientTimeout(total=120),
        auto_decompress=False,
    )


async def fetch(client: aiohttp.ClientSession, base: str, form: Form) -> Answer:
    # encoded=True: the path goes out byte for byte, as the form spells it.
    url = URL(base + form.path, encoded=True)
    async with client.request(form.method, url, headers=form.headers) as response:
        return Answer(form, response.status, await response.read(), response.headers)


async def fetch_all(
    client: aiohttp.ClientSession, base: str, forms: Sequence[Form], concurrency: int, seed: int
) -> list[Answer]:
    """Every form once, `concurrency` at a time, in a shuffled (seeded) order."""
    order = list(forms)
    random.Random(seed).shuffle(order)
    queue: asyncio.Queue[Form] = asyncio.Queue()
    for form in order:
        queue.put_nowait(form)
    answers: list[Answer] = []

    async def worker() -> None:
        while not queue.empty():
            answers.append(await fetch(client, base, queue.get_nowait()))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers
