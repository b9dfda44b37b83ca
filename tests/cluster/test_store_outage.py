"""The cluster and the store behind it: purges that reach every copy, and an outage that
leaves every node in the balancer, serving what it holds.

Three real nodes behind the shipped HAProxy config, over a moto of this test's own (it is
stopped halfway).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.cluster import client as clients
from tests.cluster.haproxy import NODE_NAMES, get, wait_until
from tests.cluster.real import Cluster, check, owners, real_cluster
from tests.cluster.routing import Form
from tests.storage.conftest import s3_client, start_moto

TOKEN = "cluster-admin-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONCURRENCY = 8
UNCACHED = "never/asked.jpg"
ENV = {
    "ADMIN_TOKEN": TOKEN,
    "CACHE_STORAGE_REVALIDATE": "1s",
    # A dead store is seen at once, not after retries: what is tested is what follows.
    "STORAGE_RETRIES": "0",
    "STORAGE_TIMEOUT": "2s",
}


@pytest.fixture
def outage_cluster(tmp_path: Path) -> Iterator[tuple[Cluster, object]]:
    moto = start_moto()
    try:
        with real_cluster(moto, tmp_path, **ENV) as cluster:
            body = next(iter(cluster.objects.values())).data
            s3_client(moto.url).put_object(Bucket=cluster.bucket, Key=UNCACHED, Body=body)
            yield cluster, moto
    finally:
        moto.stop()


def whole_gets(cluster: Cluster) -> list[Form]:
    return [f for f in cluster.forms(ranges=False) if f.method == "GET" and not f.headers]


def post(url: str) -> tuple[int, dict[str, object]]:
    status, body, _ = get(url, "POST", AUTH)
    return status, json.loads(body) if status == 200 else {"body": body.decode()}


def test_purges_reach_every_copy_and_an_outage_keeps_every_node_serving(outage_cluster) -> None:
    cluster, moto = outage_cluster
    asyncio.run(scenario(cluster, moto))


async def scenario(cluster: Cluster, moto) -> None:  # type: ignore[no-untyped-def]
    haproxy = cluster.haproxy
    forms = whole_gets(cluster)
    async with clients.session(CONCURRENCY) as session:

        async def fetch(seed: int) -> list[clients.Answer]:
            return await clients.fetch_all(session, haproxy.base, forms, CONCURRENCY, seed)

        owner = owners(check(cluster, await fetch(seed=1)))

        # One object's purge through HAProxy lands on the node that holds it.
        origin = sorted(owner)[0]
        key = origin.partition("/")[2]
        status, answer = await asyncio.to_thread(
            post, f"{haproxy.base}/admin/purge/{cluster.bucket}/{quote(key)}"
        )
        assert status == 200 and int(answer["purged"]) >= 1, answer  # type: ignore[call-overload]
        again = await clients.fetch(
            session, haproxy.base, Form("purged", f"/{cluster.bucket}/{quote(key)}", "original")
        )
        assert (again.status, again.cache, again.node) == (200, "MISS", owner[origin])

        # A prefix reaches every node through the command line's fan-out.
        reads = sum((await asyncio.to_thread(cluster.reads)).values())
        nodes = ",".join(node.base for node in cluster.nodes.values())
        purge = subprocess.run(
            [sys.executable, "-m", "proxy", "cache", "purge", "--prefix", cluster.bucket,
             "--nodes", nodes],
            env={**cluster.nodes["node1"].env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert purge.returncode == 0, purge.stdout + purge.stderr
        assert purge.stdout.count(": removed ") == 3
        refilled = await fetch(seed=2)
        check(cluster, refilled)
        # Every object was dropped everywhere: each is read from the store once more.
        assert sum((await asyncio.to_thread(cluster.reads)).values()) == reads + len(owner)
        assert owners(check(cluster, await fetch(seed=3))) == owner

        # The store goes away.
        moto.stop()
        time.sleep(1.2)  # past CACHE_STORAGE_REVALIDATE: every copy is due for its check

        def all_stale() -> bool:
            answers = asyncio.run_coroutine_threadsafe(fetch(seed=4), loop).result()
            check(cluster, answers)  # every answer right, all the while
            return all(a.cache == "STALE" for a in answers)

        loop = asyncio.get_running_loop()
        await asyncio.to_thread(wait_until, all_stale, 60, "every cached copy served STALE")
        for name in NODE_NAMES:
            assert haproxy.status(name) == "UP", name  # nobody was taken out
            node = cluster.nodes[name]
            assert (await asyncio.to_thread(get, node.base + "/health"))[0] == 200
            assert (await asyncio.to_thread(get, node.base + "/health/store"))[0] == 503
            assert node.metric("proxy_store_up") == 0

        # What no node holds gets the node's own answer, with its reason.
        status, body, headers = await asyncio.to_thread(
            get, f"{haproxy.base}/{cluster.bucket}/{quote(UNCACHED)}"
        )
        assert status in (502, 504) and headers["x-served-by"] in NODE_NAMES
        assert body.strip() in (b"storage unavailable", b"storage timed out", b"storage error")
