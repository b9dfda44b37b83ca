"""Scenario 4: streaming a 1 GiB original, from local storage and from S3 (moto), streamed
through uncached and from the storage cache, vs nginx static. Throughput and the server's peak
RSS; proves "serving a 1 GiB object raises the process's peak RSS by less than 64 MiB"."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks import images, report
from benchmarks.harness import (
    BUCKET,
    HOST,
    WORK,
    Context,
    RssSampler,
    Section,
    Server,
    free_port,
    http_get,
    log,
    max_delta_mib,
    reset_tree_peaks,
    s3_bucket,
    s3_settings,
    start_moto,
    start_nginx,
    start_proxy,
    tree_status_kib,
)

LIMIT_MIB = 64
# Large enough for the 1 GiB object, so the "from the storage cache" rows are hits.
CACHED = {"CACHE_MAX_OBJECT_SIZE": "2g", "CACHE_STORAGE_SIZE": "4g"}


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
        "A sparse 1 GiB object downloaded with curl, body discarded: 1 connection "
        f"({1 if ctx.quick else 3} downloads in a row), then 4 in parallel. *Streamed through* "
        "rows have the object larger than `CACHE_MAX_OBJECT_SIZE` (the default 512m), so every "
        "download reads the store; *from the storage cache* rows raise it to 2g and warm the "
        "cache first, so the proxy sends its cached file with sendfile. The local file is "
        "sparse and moto holds its copy in memory, so reads come from memory: this measures "
        "the servers, not the disk. Every server is measured only once its processes are idle "
        "after start (a listening port is not a ready server: the proxy's render processes "
        "boot for seconds after it). Peak RSS is sampled over the server's whole process "
        "tree; for the proxy the kernel's own peak (`VmHWM`) is read too, before and after.",
    )
    path = f"/{images.BIG.source}"
    rounds = 1 if ctx.quick else 3
    plans = [(1, rounds), (4, 1)]
    rows: list[list[str]] = []
    data: dict = {}

    local = start_proxy("proxy-stream", images.DATA, ctx.env, False, ctx.workers)
    with ctx.server(local):
        _warm(local)
        delta = _measure(sec, "proxy, local, streamed through", local, path, plans, rows, data)
        _verdict(sec, data, delta, plans)

    _link_storage(WORK / "data-stream")
    cached = start_proxy(
        "proxy-stream-cached", WORK / "data-stream", {**ctx.env, **CACHED}, True, ctx.workers
    )
    with ctx.server(cached):
        _warm(cached)
        http_get(cached.url + path, timeout=300)  # fills the storage cache
        _measure(sec, "proxy, local, from the storage cache", cached, path, plans, rows, data)

    moto = start_moto()
    with ctx.server(moto):
        _upload(moto)
        s3 = s3_settings(moto)
        for label, extra, name in (
            ("proxy, S3, streamed through", {}, "proxy-stream-s3"),
            ("proxy, S3, from the storage cache", CACHED, "proxy-stream-s3-cached"),
        ):
            proxy = start_proxy(
                name, WORK / f"data-{name}", {**ctx.env, **s3, **extra}, True, ctx.workers
            )
            with ctx.server(proxy):
                _warm(proxy)
                if extra:
                    http_get(proxy.url + path, timeout=300)
                _measure(sec, label, proxy, path, plans, rows, data)

    port = free_port()
    servers = f"""
    server {{
        listen {HOST}:{port};
        root {images.STORAGE};
    }}
"""
    nginx = start_nginx("nginx-stream", servers)
    with ctx.server(nginx):
        _measure(sec, "nginx static", nginx, path, plans, rows, data, url=f"http://{HOST}:{port}")

    for row in rows:
        ref = data.get("nginx static", {}).get(int(row[1]))
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
                name: [per.get(c, {}).get("GiB_per_s", float("nan")) for c, _ in plans]
                for name, per in data.items()
                if isinstance(per, dict) and all(isinstance(k, int) for k in per)
            },
            "GiB/s",
        )
    )
    sec.notes.append(
        "The S3 rows that stream through are bounded by moto, a Python server on the same "
        "two cores, not by the proxy: from the storage cache the same object goes out as fast "
        "as nginx sends a file."
    )
    sec.data = data
    return sec


def _warm(proxy: Server) -> None:
    """The app's own imports, a first storage read, metrics: reach every worker."""
    http_get(f"{proxy.url}/health")
    for _ in range(4):
        http_get(f"{proxy.url}/{images.JPEG_1080P.source}")


def _link_storage(data_path) -> None:
    """The benchmark's storage folder, shared read-only by a second DATA_PATH."""
    data_path.mkdir(parents=True, exist_ok=True)
    link = data_path / "storage"
    if not link.exists():
        link.symlink_to(images.STORAGE, target_is_directory=True)


def _upload(moto: Server) -> None:
    s3 = s3_bucket(moto)
    s3.upload_file(str(images.BIG.path), BUCKET, images.BIG.key)
    s3.upload_file(str(images.JPEG_1080P.path), BUCKET, images.JPEG_1080P.key)


def _measure(
    sec: Section,
    label: str,
    server: Server,
    path: str,
    plans: list[tuple[int, int]],
    rows: list[list[str]],
    data: dict,
    url: str = "",
) -> float:
    """Throughput and peak RSS rows for one server; returns its largest VmHWM growth (MiB)."""
    reset_tree_peaks(server)
    hwm_before = tree_status_kib(server, "VmHWM")
    per: dict[int, dict] = {}
    for conns, rnds in plans:
        with RssSampler(server) as rss:
            gibs, total = throughput((url or server.url) + path, conns, rnds)
        rows.append(
            [label, str(conns), f"{total / (1 << 30):.0f}", f"{gibs:.2f}", f"{rss.peak_mib:.0f}"]
        )
        per[conns] = {"GiB_per_s": gibs, "peak_rss_mib": rss.peak_mib}
        log(f"  {label} c={conns}: {gibs:.2f} GiB/s, peak RSS {rss.peak_mib:.0f} MiB")
    data[label] = per
    delta, _pid = max_delta_mib(hwm_before, tree_status_kib(server, "VmHWM"))
    data.setdefault("vmhwm_delta_mib_by_server", {})[label] = delta
    return delta


def _verdict(sec: Section, data: dict, delta: float, plans: list[tuple[int, int]]) -> None:
    verdict = "PASS" if delta < LIMIT_MIB else "FAIL"
    sec.notes.append(
        f"**{verdict}**: streaming the 1 GiB object through uncached "
        f"({sum(c * r for c, r in plans)} downloads, up to 4 at once) raised the peak RSS "
        f"(VmHWM, reset after warm-up) of the proxy's busiest process by **{delta:.1f} MiB**; "
        f"the limit is {LIMIT_MIB} MiB."
    )
    print(f"1 GiB streaming: peak RSS delta {delta:.1f} MiB (limit {LIMIT_MIB} MiB): {verdict}")
    data["vmhwm_delta_mib"] = delta
