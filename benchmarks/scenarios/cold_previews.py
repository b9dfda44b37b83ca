"""Scenario 2: cold previews. The source is in the storage cache, the preview is not, and every
request asks for a different width. Peers: thumbor (one process per core, file loader) and a
tight in-process pyvips loop doing the same thumbnails with the same concurrency (the ceiling)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyvips

from benchmarks import images, report
from benchmarks.harness import (
    Context,
    Section,
    http_get,
    log,
    start_proxy,
    start_thumbor,
    thumbor_installed,
)
from benchmarks.load import LoadResult, run_unique

MIN_WIDTH = 100


def width(i: int, src: images.Source) -> int:
    """A distinct width per request index (wraps only after source width - 100 requests)."""
    return MIN_WIDTH + i % max(1, src.width - MIN_WIDTH)


def proxy_url(base: str, src: images.Source, i: int, w: int = 0) -> str:
    return f"{base}/previews/q/ext:jpeg/rs:fit:{w or width(i, src)}:0/q:70/plain/{src.source}"


def thumbor_url(base: str, src: images.Source, i: int, w: int = 0) -> str:
    return f"{base}/unsafe/{w or width(i, src)}x0/filters:quality(70):format(jpeg)/{src.source}"


CHECK_WIDTH = MIN_WIDTH - 1  # never asked for by the load itself


def check_output(name: str, url: str, want_width: int) -> str:
    """One request: is the answer a JPEG of the asked width? A note for results.md."""
    status, body, _ = http_get(url)
    if status != 200:
        return f"{name}: answered {status} for {url}"
    try:
        img = pyvips.Image.new_from_buffer(body, "")
    except pyvips.Error as exc:
        return f"{name}: the answer is not an image ({exc})"
    loader = img.get("vips-loader") if img.get_typeof("vips-loader") else "?"
    if img.width != want_width or not loader.startswith("jpeg"):
        return f"{name}: asked for a {want_width}px JPEG, got {img.width}x{img.height} ({loader})"
    return ""


def pyvips_loop(src: images.Source, concurrency: int, duration: float, cap: int) -> LoadResult:
    """The ceiling: thumbnail + JPEG encode of the same file in `concurrency` threads."""
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(cap))
    deadline = time.monotonic() + duration

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            t0 = time.perf_counter()
            thumb = pyvips.Image.thumbnail(str(src.path), width(i, src), height=10_000_000)
            if thumb.hasalpha():
                thumb = thumb.flatten(background=[255, 255, 255])
            if thumb.format != "uchar":
                thumb = thumb.colourspace("srgb").cast("uchar")
            data = thumb.jpegsave_buffer(Q=70)
            with lock:
                result.ok += 1
                result.bytes += len(data)
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    result.elapsed = time.perf_counter() - t0
    return result


def run(ctx: Context) -> Section:
    concurrency = 2 * ctx.cores
    sec = Section(
        "cold",
        "2. Cold previews: every request a different width",
        f"{concurrency} concurrent clients (2 x cores) for "
        f"{ctx.seconds(4, 12):.0f} s per source and server; request *i* asks for width "
        f"{MIN_WIDTH} + *i* (`rs:fit:W:0`, JPEG q70), so nothing is a cache hit. The proxy "
        "has the source in its storage cache (fetched once before); thumbor reads it with its "
        "file loader (no source storage, file result storage on); the pyvips loop runs "
        "`thumbnail` + `jpegsave_buffer` in the benchmark process with the same number of "
        "threads: the ceiling.",
    )
    sec.notes.append(
        "Before each load, one answer per server and source is checked to be a JPEG of the "
        "asked width; failures are listed here."
    )
    sources = [images.JPEG_1080P, images.JPEG_12MP, images.JPEG_48MP]
    if not ctx.quick:
        sources += [images.PNG_ALPHA, images.TIFF_16]
    duration = ctx.seconds(4, 12)
    cap = 5000
    results: dict[str, dict[str, LoadResult]] = {}

    log("  pyvips in-process loop (ceiling)")
    for src in sources:
        r = pyvips_loop(src, concurrency, duration, cap)
        results.setdefault(src.label, {})["pyvips loop (ceiling)"] = r
        log(f"    {src.label:26s} {r.per_s:7.1f} img/s")

    if ctx.previews_ok:
        proxy = start_proxy(
            "proxy-cold", images.DATA, ctx.env, fresh_caches=True, workers=ctx.workers
        )
        with ctx.server(proxy):
            for src in sources:
                http_get(f"{proxy.url}/{src.source}")  # the source into the storage cache
                problem = check_output(
                    f"proxy, {src.label}", proxy_url(proxy.url, src, 0, CHECK_WIDTH), CHECK_WIDTH
                )
                if problem:
                    sec.notes.append(f"Output check failed: {problem}")
                    if " answered " in problem:
                        continue  # it cannot render this source: no load to measure
                r = run_unique(
                    lambda i, s=src: proxy_url(proxy.url, s, i), concurrency, duration, cap
                )
                results[src.label]["proxy"] = r
                log(f"    proxy   {src.label:26s} {r.per_s:7.1f} img/s  failed {r.failed}")
                if r.failed:
                    sec.notes.append(f"proxy, {src.label}: {r.failed} failed, e.g. {r.first_error}")
    else:
        sec.notes.append(
            f"No proxy rows: previews are not available ({ctx.previews_note}). "
            "The peers below still ran."
        )

    if thumbor_installed():
        thumbor = start_thumbor(
            "thumbor-cold", images.STORAGE, processes=ctx.cores, result_storage=True
        )
        with ctx.server(thumbor):
            for src in sources:
                problem = check_output(
                    f"thumbor, {src.label}",
                    thumbor_url(thumbor.url, src, 0, CHECK_WIDTH),
                    CHECK_WIDTH,
                )
                if problem:
                    sec.notes.append(f"Output check failed: {problem}")
                    if " answered " in problem:
                        continue  # it cannot render this source: no load to measure
                r = run_unique(
                    lambda i, s=src: thumbor_url(thumbor.url, s, i), concurrency, duration, cap
                )
                results[src.label]["thumbor"] = r
                log(f"    thumbor {src.label:26s} {r.per_s:7.1f} img/s  failed {r.failed}")
                if r.failed:
                    sec.notes.append(
                        f"thumbor, {src.label}: {r.failed} failed, e.g. {r.first_error}"
                    )
    else:
        sec.notes.append("thumbor is not installed: no thumbor rows.")

    rows = []
    for label, per in results.items():
        ceiling = per.get("pyvips loop (ceiling)")
        for name in ("proxy", "thumbor", "pyvips loop (ceiling)"):
            r = per.get(name)
            if r is None:
                continue
            rows.append(
                [
                    label,
                    name,
                    report.fmt(r.per_s, 1),
                    report.fmt(r.pct(50), 0),
                    report.fmt(r.pct(99), 0),
                    report.ratio(r.per_s, ceiling.per_s) if ceiling else "-",
                    str(r.ok),
                    str(r.failed),
                ]
            )
        if "proxy" in per and "thumbor" in per:
            rows.append(
                [
                    label,
                    "**proxy / thumbor**",
                    report.ratio(per["proxy"].per_s, per["thumbor"].per_s),
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    sec.tables.append(
        (
            "",
            [
                "source",
                "server",
                "images/s",
                "p50 ms",
                "p99 ms",
                "vs pyvips loop",
                "done",
                "failed",
            ],
            rows,
        )
    )
    names = ["proxy", "thumbor", "pyvips loop (ceiling)"]
    series = {
        n: [results[s.label][n].per_s if n in results[s.label] else float("nan") for s in sources]
        for n in names
        if any(n in results[s.label] for s in sources)
    }
    sec.plots.append(
        report.grouped_bars(
            "cold_previews.png",
            f"Cold previews, {concurrency} concurrent: images/s (higher is better)",
            [s.label.replace(" ", "\n", 1) for s in sources],
            series,
            "images/s",
            log=True,
        )
    )
    sec.data = {
        label: {
            n: {"per_s": r.per_s, "ok": r.ok, "failed": r.failed, "p50_ms": r.pct(50)}
            for n, r in per.items()
        }
        for label, per in results.items()
    }
    return sec
