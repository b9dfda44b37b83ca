"""Scenario 6: a cluster. 20 objects in moto's S3, 16 concurrent clients asking for 10 preview
sizes of each, through HAProxy (config/haproxy/haproxy.cfg) in front of 1 or 3 proxy nodes:
round robin against hashing on the source object, and hashing with bounded load."""

from __future__ import annotations

import random
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import images, report
from benchmarks.harness import (
    BUCKET,
    HOST,
    ROOT,
    WORK,
    Context,
    Section,
    Server,
    free_port,
    log,
    metric_sum,
    proxy_metrics,
    s3_bucket,
    s3_settings,
    start_moto,
    start_process,
    start_proxy,
)
from benchmarks.load import LoadResult, run_clients
from benchmarks.scenarios.remote import RETRIES

CONFIG = ROOT / "config" / "haproxy" / "haproxy.cfg"
CLIENTS = 16
WIDTHS = (120, 160, 200, 240, 300, 360, 480, 640, 800, 1024)
# 20 objects: each of the 10 remote images under two keys (the store counts reads per key).
OBJECTS = [
    (f"cluster/{half}/object-{i:02d}.jpg", src)
    for half in "ab"
    for i, src in enumerate(images.REMOTE)
]
HASH_LINE = "    balance hash var(txn.source_key)\n"


@dataclass(frozen=True)
class Layout:
    label: str
    nodes: int
    balance: str  # "hash" or "roundrobin"
    balance_factor: int = 0


LAYOUTS = (
    Layout("1 node", 1, "hash"),
    Layout("3 nodes, round robin", 3, "roundrobin"),
    Layout("3 nodes, source hash", 3, "hash"),
    Layout("3 nodes, source hash + hash-balance-factor 150", 3, "hash", 150),
)


def haproxy_config(layout: Layout) -> str:
    """The shipped config; round robin replaces its balance line, one node keeps one server."""
    text = CONFIG.read_text()
    if HASH_LINE not in text:
        raise RuntimeError(f"{CONFIG} has no line {HASH_LINE.strip()!r}")
    if layout.balance == "roundrobin":
        text = text.replace(HASH_LINE, "    balance roundrobin\n")
    for n in range(layout.nodes + 1, 4):
        text = re.sub(rf"^    server node{n} .*\n", "", text, flags=re.M)
    return text


def paths() -> list[str]:
    return [
        f"/previews/q/ext:jpeg/rs:fit:{w}:0/q:70/plain/{BUCKET}/{key}"
        for key, _ in OBJECTS
        for w in WIDTHS
    ]


def client_lists(base: str) -> list[list[str]]:
    """Every client asks for every preview, each in its own (seeded) random order."""
    urls = [base + p for p in paths()]
    lists = []
    for c in range(CLIENTS):
        mine = list(urls)
        random.Random(c).shuffle(mine)
        lists.append(mine)
    return lists


def upload(moto: Server) -> None:
    s3 = s3_bucket(moto)
    for key, src in OBJECTS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=src.path.read_bytes())


def stats_csv(stats_port: int) -> str:
    with urllib.request.urlopen(f"http://{HOST}:{stats_port}/;csv", timeout=5) as answer:
        return str(answer.read().decode())


def wait_all_up(stats_port: int, nodes: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        up = [line for line in stats_csv(stats_port).splitlines() if ",UP," in line]
        if len([line for line in up if line.startswith("nodes,node")]) == nodes:
            return
        time.sleep(0.1)
    raise RuntimeError(f"HAProxy did not see {nodes} nodes UP within {timeout}s")


def haproxy_binary() -> str | None:
    found = shutil.which("haproxy")
    return found or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)


def start_haproxy(layout: Layout, nodes: list[Server]) -> Server:
    binary = haproxy_binary()
    if binary is None:
        raise RuntimeError("haproxy is not installed")
    conf = WORK / "haproxy" / f"{layout.nodes}-{layout.balance}-{layout.balance_factor}.cfg"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(haproxy_config(layout))
    port, stats_port = free_port(), free_port()
    env = {
        "HAPROXY_BIND": f"{HOST}:{port}",
        "HAPROXY_STATS_BIND": f"{HOST}:{stats_port}",
        "HAPROXY_HASH_BALANCE_FACTOR": str(layout.balance_factor),
        **{f"NODE{i + 1}_ADDR": f"{HOST}:{node.port}" for i, node in enumerate(nodes)},
    }
    server = start_process("haproxy", [binary, "-db", "-f", str(conf)], port, WORK / "logs", env)
    try:
        wait_all_up(stats_port, len(nodes))
    except RuntimeError:
        server.stop()
        raise
    return server


@contextmanager
def cluster(
    ctx: Context, layout: Layout, env: dict[str, str]
) -> Iterator[tuple[Server, list[Server]]]:
    nodes = []
    for i in range(layout.nodes):
        node_env = {**env, "NODE_NAME": f"node{i + 1}"}
        data = WORK / "cluster" / f"node{i + 1}"
        nodes.append(
            start_proxy(f"cluster-node{i + 1}", data, node_env, fresh_caches=True, workers=1)
        )
        ctx.started.append(nodes[-1])
    try:
        haproxy = start_haproxy(layout, nodes)
        with ctx.server(haproxy):
            yield haproxy, nodes
    finally:
        for node in nodes:
            node.stop()
            ctx.started.remove(node)


@dataclass
class Measured:
    layout: Layout
    load: LoadResult
    reads: float
    bytes: float
    renders: float


def _metrics(nodes: list[Server]) -> dict[str, float]:
    """Store reads, bytes and renders, summed over the nodes."""
    names = ("proxy_storage_reads_total", "proxy_storage_read_bytes_total", "proxy_renders_total")
    texts = [proxy_metrics(node.url) for node in nodes]
    return {name: sum(metric_sum(text, name) for text in texts) for name in names}


def measure(ctx: Context, layout: Layout, env: dict[str, str], timeout: float) -> Measured:
    with cluster(ctx, layout, env) as (haproxy, nodes):
        before = _metrics(nodes)
        load = run_clients(client_lists(haproxy.url), timeout, RETRIES)
        after = _metrics(nodes)
    delta = {name: after[name] - before.get(name, 0.0) for name in after}
    log(
        f"  {layout.label}: {load.ok} ok / {load.failed} failed in {load.elapsed:.1f} s, "
        f"store reads {delta['proxy_storage_reads_total']:.0f}"
    )
    return Measured(
        layout,
        load,
        delta["proxy_storage_reads_total"],
        delta["proxy_storage_read_bytes_total"],
        delta["proxy_renders_total"],
    )


def _row(m: Measured) -> list[str]:
    answers = sum(m.load.cache_status.values())
    hits = m.load.cache_status.get("HIT", 0)
    return [
        m.layout.label,
        f"{m.load.ok:,}",
        str(m.load.failed),
        report.fmt(m.load.per_s, 0),
        f"{m.reads:.0f}",
        f"{m.reads / len(OBJECTS):.2f}",
        f"{m.bytes:,.0f}",
        f"{m.renders:.0f}",
        f"{hits / answers:.1%}" if answers else "-",
        str(m.load.retried_503),
    ]


def run(ctx: Context) -> Section:
    sec = Section(
        "cluster",
        "6. A cluster: HAProxy in front of 1 or 3 nodes, 20 objects in S3 (moto)",
        f"{CLIENTS} concurrent clients each ask for {len(WIDTHS)} preview widths of each of "
        f"the {len(OBJECTS)} objects ({len(paths())} distinct URLs, "
        f"{CLIENTS * len(paths()):,} requests), each client in its own random order, all "
        "starting cold, through HAProxy 2.6 with `config/haproxy/haproxy.cfg` (for round robin "
        "its `balance` line is replaced by `balance roundrobin`; for 1 node it keeps one "
        "server line). Every node is `python -m proxy serve --workers 1` with its own cache "
        "folder, over the same moto S3 server; store reads, bytes and renders are summed over "
        "the nodes' `/metrics`. \"Answers from a cache\" counts the clients' answers with "
        "`X-Cache-Status: HIT` (ideal: all but the 200 first requests for each preview). "
        "HAProxy, the nodes, moto and the clients share this machine's cores, so requests/s "
        "does not grow with nodes here; the store reads are what to read.",
    )
    if not ctx.previews_ok:
        sec.skipped = f"previews are not available ({ctx.previews_note})"
        return sec
    if haproxy_binary() is None:
        sec.skipped = "haproxy is not installed (scripts/system-packages.sh installs it)"
        return sec
    timeout = ctx.seconds(120, 240)
    measured: list[Measured] = []
    moto = start_moto()
    with ctx.server(moto):
        upload(moto)
        env = {
            **ctx.env,
            **s3_settings(moto),
        }
        for layout in LAYOUTS:
            measured.append(measure(ctx, layout, env, timeout))
    rows = [_row(m) for m in measured]
    sec.tables.append(
        (
            f"Ideal: {len(OBJECTS)} store reads (1.00 per object) and "
            f"{len(paths())} renders, whatever the number of nodes.",
            [
                "layout",
                "requests ok",
                "failed",
                "requests/s",
                "store GETs",
                "GETs per object",
                "bytes read at the store",
                "renders",
                "answers from a cache",
                "503s retried",
            ],
            rows,
        )
    )
    by_label = {m.layout.label: m for m in measured}
    hashed, spread = by_label["3 nodes, source hash"], by_label["3 nodes, round robin"]
    ok = hashed.reads == len(OBJECTS) and hashed.load.failed == 0
    sec.notes.append(
        f"**{'PASS' if ok else 'FAIL'}**: behind HAProxy hashing on the source, 3 nodes made "
        f"{hashed.reads:.0f} store reads for {len(OBJECTS)} objects (expected exactly "
        f"{len(OBJECTS)}); round robin made {spread.reads:.0f}."
    )
    bounded = by_label["3 nodes, source hash + hash-balance-factor 150"]
    sec.notes.append(
        f"`hash-balance-factor 150` (bounded load) sent requests past a busy node's share to "
        f"its neighbours: {bounded.reads:.0f} store reads instead of {hashed.reads:.0f}. It is "
        "off in the shipped config (`HAPROXY_HASH_BALANCE_FACTOR=0`)."
    )
    for m in measured:
        if m.load.failed:
            sec.notes.append(f"{m.layout.label}: {m.load.failed} failed, e.g. {m.load.first_error}")
    sec.plots.append(
        report.grouped_bars(
            "cluster_reads.png",
            f"Store GETs for {len(OBJECTS)} objects (lower is better; ideal {len(OBJECTS)})",
            [m.layout.label.replace(", ", "\n") for m in measured],
            {"store GETs": [m.reads for m in measured]},
            "GETs",
        )
    )
    sec.data = {
        m.layout.label: {
            "ok": m.load.ok,
            "failed": m.load.failed,
            "seconds": m.load.elapsed,
            "reads": m.reads,
            "bytes": m.bytes,
            "renders": m.renders,
            "cache_status": dict(m.load.cache_status),
        }
        for m in measured
    }
    return sec
