"""Scenario 4: streaming a 1 GiB original. Throughput and the server's peak RSS, vs nginx
static; proves "serving a 1 GiB object raises the process's peak RSS by less than 64 MiB"."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks import images, report
from benchmarks.harness import (
    HOST,
    Context,
    RssSampler,
    Section,
    free_port,
    http_get,
    log,
    max_delta_mib,
    reset_tree_peaks,
    start_nginx,
    start_proxy,
    tree_status_kib,
)

LIMIT_MIB = 64


def curl_download(url: str, timeout: float) -> tuple[int, float]:
    """(bytes, seconds) for one GET with the body thrown away."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    ).stdout.split()
    if len(out) != 3 or out[0] != "200":
        raise RuntimeError(f"download of {url} failed: {out}")
    return int(out[1]), float(out[2])


def throughput(url: str, connections: int, rounds: int) -> tuple[float, int]:
    """Aggregate GiB/s over `rounds` rounds of `connections` parallel downloads."""
    total = 0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        for _ in range(rounds):
            for size, _secs in pool.map(lambda _: curl_download(url, 300), range(connections)):
                total += size
    elapsed = time.perf_counter() - t0
    return total / elapsed / (1 << 30), total


def run(ctx: Context) -> Section:
    sec = Section(
        "streaming",
        "4. Streaming a 1 GiB original",
        "A sparse 1 GiB object (larger than `CACHE_MAX_OBJECT_SIZE`, so it streams through "
        "uncached) downloaded with curl, body discarded: 1 connection, then 4 in parallel. "
        "The file is sparse, so reads come from the page cache: this measures the server, not "
        "the disk. Peak RSS is sampled over the server's whole process tree; for the proxy the "
        "kernel's own peak (`VmHWM`) is read too, before and after.",
    )
    path = f"/{images.BIG.source}"
    rounds = 1 if ctx.quick else 3
    plans = [(1, rounds), (4, 1)]
    rows, data = [], {}

    proxy = start_proxy(
        "proxy-stream", images.DATA, ctx.env, fresh_caches=False, workers=ctx.workers
    )
    with ctx.server(proxy):
        # warm up: the app's own imports, first storage read, metrics - then reset the peak
        http_get(f"{proxy.url}/{images.JPEG_1080P.source}")
        http_get(f"{proxy.url}/health")
        for _ in range(2 * ctx.workers):  # reach every worker
            http_get(f"{proxy.url}/{images.JPEG_1080P.source}")
        reset_tree_peaks(proxy)
        hwm_before = tree_status_kib(proxy, "VmHWM")
        for conns, rnds in plans:
            with RssSampler(proxy) as rss:
                gibs, total = throughput(proxy.url + path, conns, rnds)
            rows.append(
                [
                    "proxy",
                    str(conns),
                    f"{total / (1 << 30):.0f}",
                    f"{gibs:.2f}",
                    f"{rss.peak_mib:.0f}",
                ]
            )
            data[f"proxy_c{conns}"] = {"GiB_per_s": gibs, "peak_rss_mib": rss.peak_mib}
            log(f"  proxy c={conns}: {gibs:.2f} GiB/s, peak RSS {rss.peak_mib:.0f} MiB")
        hwm_after = tree_status_kib(proxy, "VmHWM")
    delta, pid = max_delta_mib(hwm_before, hwm_after)
    verdict = "PASS" if delta < LIMIT_MIB else "FAIL"
    per_proc = ", ".join(
        f"pid {p}: {hwm_before.get(p, 0) / 1024:.0f} -> {kib / 1024:.0f} MiB"
        for p, kib in hwm_after.items()
    )
    sec.notes.append(
        f"**{verdict}**: serving the 1 GiB object ({sum(c * r for c, r in plans)} downloads, "
        f"up to 4 at once) raised the peak RSS (VmHWM, reset after warm-up) of the proxy's busiest process "
        f"by **{delta:.1f} MiB** (pid {pid}); the limit is {LIMIT_MIB} MiB. Per process "
        f"(supervisor and workers): {per_proc}."
    )
    print(f"1 GiB streaming: peak RSS delta {delta:.1f} MiB (limit {LIMIT_MIB} MiB): {verdict}")
    data["vmhwm_delta_mib"] = delta
    data["vmhwm_before_kib"] = hwm_before
    data["vmhwm_after_kib"] = hwm_after

    port = free_port()
    servers = f"""
    server {{
        listen {HOST}:{port};
        root {images.STORAGE};
    }}
"""
    nginx = start_nginx("nginx-stream", servers)
    with ctx.server(nginx):
        for conns, rnds in plans:
            with RssSampler(nginx) as rss:
                gibs, total = throughput(f"http://{HOST}:{port}{path}", conns, rnds)
            rows.append(
                [
                    "nginx static",
                    str(conns),
                    f"{total / (1 << 30):.0f}",
                    f"{gibs:.2f}",
                    f"{rss.peak_mib:.0f}",
                ]
            )
            data[f"nginx_c{conns}"] = {"GiB_per_s": gibs, "peak_rss_mib": rss.peak_mib}
            log(f"  nginx c={conns}: {gibs:.2f} GiB/s, peak RSS {rss.peak_mib:.0f} MiB")

    for row in rows:
        ref = data.get(f"nginx_c{row[1]}")
        row.insert(4, report.ratio(float(row[3]), ref["GiB_per_s"]) if ref else "-")
    sec.tables.append(
        (
            "",
            ["server", "connections", "GiB sent", "GiB/s", "vs nginx", "peak RSS MiB (tree)"],
            rows,
        )
    )
    groups = [f"{c} conn" for c, _ in plans]
    sec.plots.append(
        report.grouped_bars(
            "streaming.png",
            "Streaming 1 GiB: GiB/s (higher is better)",
            groups,
            {
                "proxy": [data[f"proxy_c{c}"]["GiB_per_s"] for c, _ in plans],
                "nginx static": [data[f"nginx_c{c}"]["GiB_per_s"] for c, _ in plans],
            },
            "GiB/s",
        )
    )
    sec.data = data
    return sec
