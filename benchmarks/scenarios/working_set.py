"""Scenario 1b: cache hits, working set beyond memory. Many distinct previews, each asked in
turn (wrk with a Lua list of their URLs), served from the memory tier (the default
`CACHE_MEMORY_SIZE`) and from disk (`CACHE_MEMORY_SIZE=0`, as when the working set is larger
than the memory tier), and one preview over and over for each, beside bare aiohttp."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks import images, report
from benchmarks.harness import WORK, Context, Section, Server, http_get, proxy_metrics, start_proxy
from benchmarks.scenarios.cache_hits import (
    _bare_lag_counts,
    _lag_counts,
    _lag_p99,
    _measure,
    _start_bare,
    _sum_counts,
)

PREVIEWS = 2000
CONNECTIONS = 16
SOURCE = images.JPEG_1080P
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def _path(i: int) -> str:
    # A cachebuster per preview: 2000 entries of the same size, each rendered once.
    return f"/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/cb:{i}/plain/{SOURCE.source}"


def run(ctx: Context) -> Section:
    sec = Section(
        "working_set",
        "1b. Cache hits, working set beyond memory",
        f"{PREVIEWS:,} distinct 300px previews of the {SOURCE.label} (one `cb:` each), "
        f"{ctx.workers} workers, wrk with {CONNECTIONS} connections over a Lua list of their "
        "URLs (each connection walks the list in turn), then one of them over and over. "
        "*memory tier*: the default `CACHE_MEMORY_SIZE` (the previews fit in it); *working "
        "set beyond memory*: `CACHE_MEMORY_SIZE=0`, every hit a query of the index, an open, "
        "an fstat, a read and an XXH3 of the body. *vs memory tier* is the ratio of "
        "requests/s to the memory-tier row of the same URLs. Rounds alternate the servers; "
        "each row is the round with the median CPU per request. The machine is shared: "
        "figures are noisy.",
    )
    if not ctx.previews_ok:
        sec.skipped = f"previews are not available ({ctx.previews_note})"
        return sec
    data = WORK / f"working-set-{os.environ.get('BENCH_LABEL', 'data')}"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    (data / "storage").symlink_to(images.STORAGE)
    urls_file = WORK / "working-set-urls.txt"
    urls_file.write_text("".join(_path(i) + "\n" for i in range(PREVIEWS)))
    script = WORK / "working-set.lua"
    script.write_text(LUA % urls_file)
    duration = ctx.seconds(3, 5)
    rounds = int(ctx.seconds(1, 3))
    env = {**ctx.env, "ACCESS_LOG": "off"}
    memory = start_proxy("proxy-ws-memory", data, env, False, ctx.workers)
    with ctx.server(memory):
        _warm(memory)
        _, body, headers = http_get(memory.url + _path(0))
        sec.notes.append(
            f"Proxy answer: {len(body):,} bytes, `X-Cache-Status: "
            f"{headers.get('X-Cache-Status', '-')}` after warming."
        )
        static_dir = WORK / "working-set-static"
        shutil.rmtree(static_dir, ignore_errors=True)
        static_dir.mkdir()
        (static_dir / "preview.jpg").write_bytes(body)
        (static_dir / "headers.json").write_text("{}")
    disk = start_proxy("proxy-ws-disk", data, {**env, "CACHE_MEMORY_SIZE": "0"}, False, ctx.workers)
    memory = start_proxy("proxy-ws-memory", data, env, False, ctx.workers)
    bare = _start_bare(static_dir, ctx.workers)
    runs: dict[str, list] = {}
    lags: dict[str, list] = {}
    with ctx.server(disk), ctx.server(memory), ctx.server(bare):
        for server in (disk, memory):
            for i in range(PREVIEWS):  # every worker's memory tier, and the page cache
                http_get(server.url + _path(i))
        targets: dict[str, tuple[str, Server, bool]] = {
            "bare aiohttp, one body": (bare.url + _path(0), bare, False),
            "memory tier, one preview": (memory.url + _path(0), memory, False),
            "working set beyond memory, one preview": (disk.url + _path(0), disk, False),
            f"memory tier, {PREVIEWS} previews": (memory.url, memory, True),
            f"cache hits, working set beyond memory, {PREVIEWS} previews": (disk.url, disk, True),
        }
        bounds = proxy_metrics(memory.url)
        for _ in range(rounds):
            for name, (url, server, listed) in targets.items():
                before = "" if server is bare else proxy_metrics(server.url)
                began = time.time()
                runs.setdefault(name, []).append(
                    _measure(name, url, CONNECTIONS, duration, server, script if listed else None)
                )
                counts = (
                    _bare_lag_counts(bounds, began)
                    if server is bare
                    else _lag_counts(before, proxy_metrics(server.url))
                )
                lags[name] = _sum_counts(lags.get(name, []), counts)
    results = {n: sorted(rs, key=lambda r: r.cpu_us)[len(rs) // 2] for n, rs in runs.items()}
    rows = []
    for name, r in results.items():
        ref_name = (
            f"memory tier, {PREVIEWS} previews"
            if "previews" in name
            else "memory tier, one preview"
        )
        ref = results.get(ref_name) if "working set" in name else None
        rows.append(
            [
                name,
                report.fmt(r.rps, 0),
                report.fmt(r.p50_ms, 2),
                report.fmt(r.p99_ms, 2),
                report.ratio(r.rps, ref.rps) if ref else "-",
                report.fmt(r.cpu_us, 1),
                _lag_p99(lags.get(name, [])),
                str(r.non_2xx + r.errors),
            ]
        )
    sec.tables.append(
        (
            "",
            [
                "server",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "vs memory tier",
                "CPU us/req",
                "loop lag p99",
                "errors",
            ],
            rows,
        )
    )
    sec.data = {
        n: {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "cpu_us": r.cpu_us}
        for n, r in results.items()
    }
    return sec


def _warm(server: Server) -> None:
    """Render every preview once (a few at a time: each is a cold render)."""

    def one(i: int) -> int:
        return http_get(server.url + _path(i))[0]

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(one, range(PREVIEWS)))
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"warming answered {len(bad)} non-200s, e.g. {bad[0]}")
