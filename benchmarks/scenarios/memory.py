"""Scenario 5: memory under load. Peak RSS of the server during 32 concurrent cold previews of
a 50-megapixel JPEG (8660x5773), each request a different width."""

from __future__ import annotations

from benchmarks import images, report
from benchmarks.harness import (
    Context,
    RssSampler,
    Section,
    Server,
    http_get,
    log,
    max_delta_mib,
    reset_tree_peaks,
    start_proxy,
    start_thumbor,
    thumbor_installed,
    tree_status_kib,
)
from benchmarks.load import LoadResult, run_unique

CONCURRENCY = 32
SOURCE = images.JPEG_50MP


def proxy_url(base: str, i: int) -> str:
    return f"{base}/previews/q/ext:jpeg/rs:fit:{400 + 13 * i}:0/q:70/plain/{SOURCE.source}"


def thumbor_url(base: str, i: int) -> str:
    return f"{base}/unsafe/{400 + 13 * i}x0/filters:quality(70)/{SOURCE.source}"


def measure(
    server: Server, make_url, requests: int, timeout: float
) -> tuple[LoadResult, RssSampler, float]:
    reset_tree_peaks(server)
    before = tree_status_kib(server, "VmHWM")
    with RssSampler(server) as rss:
        r = run_unique(make_url, CONCURRENCY, timeout, requests)
    after = tree_status_kib(server, "VmHWM")
    biggest = max((kib for kib in after.values()), default=0) / 1024
    delta, _ = max_delta_mib(before, after)
    log(
        f"  {server.name}: {r.ok} ok / {r.failed} failed in {r.elapsed:.1f} s; tree peak "
        f"{rss.peak_mib:.0f} MiB (from {rss.start_mib:.0f}), largest process VmHWM {biggest:.0f} "
        f"MiB (+{delta:.0f})"
    )
    return r, rss, biggest


def run(ctx: Context) -> Section:
    requests = CONCURRENCY * (1 if ctx.quick else 3)
    timeout = ctx.seconds(90, 240)
    sec = Section(
        "memory",
        "5. Memory under load: 32 concurrent cold previews of a 50 MP JPEG",
        f"{CONCURRENCY} clients at once, {requests} requests in all, each for a different width "
        f"of the {SOURCE.label} ({SOURCE.path.stat().st_size / 1e6:.1f} MB; `rs:fit:W:0`, "
        "q70), source already in the storage cache. RSS is sampled every 20 ms over the whole "
        "process tree (supervisor, workers and their render processes for the proxy, all "
        "processes for thumbor), PSS "
        "(what the tree takes of the machine, shared pages counted once) every 200 ms; the "
        "largest single process's peak comes from the kernel (`VmHWM`, reset before the load).",
    )
    rows, data = [], {}

    def add(name: str, r: LoadResult, rss: RssSampler, biggest: float) -> None:
        rows.append(
            [
                name,
                f"{r.ok}/{requests}",
                str(r.failed),
                f"{r.elapsed:.1f}",
                report.fmt(r.per_s, 2),
                f"{rss.start_mib:.0f}",
                f"{rss.peak_mib:.0f}",
                f"{rss.start_pss_mib:.0f}",
                f"{rss.peak_pss_mib:.0f}",
                f"{biggest:.0f}",
            ]
        )
        data[name] = {
            "ok": r.ok,
            "failed": r.failed,
            "seconds": r.elapsed,
            "tree_start_mib": rss.start_mib,
            "tree_peak_mib": rss.peak_mib,
            "tree_start_pss_mib": rss.start_pss_mib,
            "tree_peak_pss_mib": rss.peak_pss_mib,
            "largest_process_hwm_mib": biggest,
            "statuses": dict(r.statuses),
        }
        if r.failed:
            sec.notes.append(f"{name}: {r.failed} failed, e.g. {r.first_error}")

    if ctx.previews_ok:
        proxy = start_proxy(
            "proxy-memory", images.DATA, ctx.env, fresh_caches=True, workers=ctx.workers
        )
        with ctx.server(proxy):
            for _ in range(2 * ctx.workers):
                http_get(f"{proxy.url}/{SOURCE.source}")  # source into the storage cache
            r, rss, biggest = measure(proxy, lambda i: proxy_url(proxy.url, i), requests, timeout)
            add(f"proxy ({ctx.workers} workers)", r, rss, biggest)
    else:
        sec.notes.append(f"No proxy row: previews are not available ({ctx.previews_note}).")

    if thumbor_installed():
        thumbor = start_thumbor(
            "thumbor-memory", images.STORAGE, processes=ctx.cores, result_storage=False
        )
        with ctx.server(thumbor):
            r, rss, biggest = measure(
                thumbor, lambda i: thumbor_url(thumbor.url, i), requests, timeout
            )
            add(f"thumbor ({ctx.cores} processes)", r, rss, biggest)
    else:
        sec.notes.append("thumbor is not installed: no thumbor row.")

    sec.tables.append(
        (
            "",
            [
                "server",
                "done",
                "failed",
                "seconds",
                "images/s",
                "RSS before MiB (tree)",
                "peak RSS MiB (tree)",
                "PSS before MiB (tree)",
                "peak PSS MiB (tree)",
                "largest process peak MiB",
            ],
            rows,
        )
    )
    if rows:
        sec.plots.append(
            report.grouped_bars(
                "memory_peak_rss.png",
                "32 concurrent 50 MP previews: peak RSS (lower is better)",
                [row[0] for row in rows],
                {
                    "RSS before (tree)": [float(row[5]) for row in rows],
                    "peak RSS (tree)": [float(row[6]) for row in rows],
                    "peak PSS (tree)": [float(row[8]) for row in rows],
                    "largest process peak": [float(row[9]) for row in rows],
                },
                "MiB",
            )
        )
    sec.data = data
    return sec
