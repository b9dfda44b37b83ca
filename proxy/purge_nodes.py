"""`python -m proxy cache purge --nodes ...`: a purge sent to every node of a cluster.

One object's purge can go through HAProxy, which routes it by the same hash as its reads
(`POST /admin/purge/<bucket>/<key>`). A prefix may be cached on any node, so this sends it
to each one: the nodes named, or every address a DNS name resolves to (a Kubernetes
headless service). A node that cannot be reached or refuses is reported, and the exit
status says so: a purge that reached only some nodes is not done.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=120)


@dataclass(frozen=True)
class NodeResult:
    node: str
    purged: int | None  # None: failed
    problem: str = ""


def nodes_from_dns(name: str) -> list[str]:
    """Every address `host:port` resolves to, as base URLs."""
    host, _, port = name.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--nodes-dns wants HOST:PORT, not {name!r}")
    found = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    addresses = sorted({str(info[4][0]) for info in found})
    return [f"http://[{a}]:{port}" if ":" in a else f"http://{a}:{port}" for a in addresses]


async def _purge_one(
    session: aiohttp.ClientSession, node: str, params: dict[str, str], token: str
) -> NodeResult:
    headers = {"Authorization": f"Bearer {token}", "X-Purge-Origin": "cli"}
    try:
        async with session.post(
            node.rstrip("/") + "/admin/purge", params=params, headers=headers
        ) as response:
            if response.status != 200:
                reason = (await response.text())[:200].strip()
                return NodeResult(node, None, f"{response.status} {reason}")
            return NodeResult(node, int((await response.json())["purged"]))
    except (TimeoutError, aiohttp.ClientError, ValueError, KeyError) as exc:
        return NodeResult(node, None, f"{type(exc).__name__}: {exc}".rstrip(": "))


async def purge_nodes(
    nodes: list[str], prefix: str, token: str, *, everything: bool, cache: str | None
) -> list[NodeResult]:
    params = {"prefix": prefix}
    if everything:
        params["all"] = "true"
    if cache is not None:
        params["cache"] = cache
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return list(await asyncio.gather(*(_purge_one(session, n, params, token) for n in nodes)))
