"""Scenario 3: remote efficiency. 10 objects in moto's S3, 100 concurrent clients asking for
10 preview sizes of each. The proxy should read each object from the store exactly once; nginx
proxy_cache with proxy_cache_lock in front of an origin coalesces per URL, not per object."""

from __future__ import annotations

import random
import re
import shutil
import time

from benchmarks import images, report
from benchmarks.harness import (
    BUCKET,
    HOST,
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
    start_nginx,
    start_proxy,
)
from benchmarks.load import LoadResult, run_clients

CLIENTS = 100
WIDTHS = (120, 160, 200, 240, 300, 360, 480, 640, 800, 1024)
RETRIES = 20  # a 503 ("render queue full") is retried after Retry-After, as a browser would
# Short, so that the warm pass after it shows what revalidation costs: HEADs, and no GET.
REVALIDATE = 5.0


def paths(previews: bool) -> list[str]:
    if not previews:
        return [f"/{src.source}" for src in images.REMOTE]
    return [
        f"/previews/q/ext:jpeg/rs:fit:{w}:0/q:70/plain/{src.source}"
        for src in images.REMOTE
        for w in WIDTHS
    ]


def client_lists(base: str, previews: bool) -> list[list[str]]:
    """Every client asks for every URL, each in its own (seeded) random order."""
    urls = [base + p for p in paths(previews)]
    lists = []
    for c in range(CLIENTS):
        mine = list(urls)
        random.Random(c).shuffle(mine)
        lists.append(mine)
    return lists


def upload(moto: Server) -> None:
    s3 = s3_bucket(moto)
    for src in images.REMOTE:
        s3.put_object(Bucket=BUCKET, Key=src.key, Body=src.path.read_bytes())


def moto_gets(log_text: str) -> int:
    """Object GETs in moto's (werkzeug) request log."""
    return len(re.findall(rf'"GET /{BUCKET}/remote/object-\d+\.jpg[^"]*" 20[06]', log_text))


def run(ctx: Context) -> Section:
    previews = ctx.previews_ok
    sec = Section(
        "remote",
        "3. Remote efficiency: 100 clients, 10 objects in S3 (moto)",
        f"{CLIENTS} concurrent clients each ask for "
        + (
            f"{len(WIDTHS)} preview widths of each of the {len(images.REMOTE)} objects "
            f"({len(WIDTHS) * len(images.REMOTE)} distinct URLs, "
            f"{CLIENTS * len(WIDTHS) * len(images.REMOTE):,} requests)"
            if previews
            else f"each of the {len(images.REMOTE)} originals"
        )
        + ", each client in its own random order, all starting cold. The proxy uses "
        "`STORAGE_PROVIDER=minio` against moto's server on loopback; its store reads come from "
        "its `/metrics` (`proxy_storage_reads_total`, `proxy_storage_read_bytes_total`) and from "
        "moto's request log. The peer is nginx `proxy_cache` + `proxy_cache_lock` in front of an "
        "origin (nginx serving the same objects) whose access log counts the hits: the lock "
        "coalesces concurrent misses per URL, so it fetches every object once per distinct URL.",
    )
    if not previews:
        sec.notes.append(
            f"Previews are not available ({ctx.previews_note}): measured with the originals "
            "route instead (100 clients x 10 objects); the expected store reads are the same, 10."
        )
    expected_reads = len(images.REMOTE)
    expected_bytes = sum(src.path.stat().st_size for src in images.REMOTE)
    timeout = ctx.seconds(90, 240)
    rows = []
    data: dict[str, dict] = {}

    # --- the proxy over moto -----------------------------------------------------------
    moto = start_moto()
    with ctx.server(moto):
        upload(moto)
        log_before = moto_gets(moto.log_path.read_text(errors="replace"))
        env = {
            **ctx.env,
            **s3_settings(moto),
            "CACHE_STORAGE_REVALIDATE": f"{REVALIDATE:g}s",
        }
        try:
            proxy = start_proxy(
                "proxy-s3", WORK / "data-s3", env, fresh_caches=True, workers=ctx.workers
            )
        except RuntimeError as exc:
            sec.notes.append(f"The proxy with `STORAGE_PROVIDER=minio` did not start: {exc}")
            proxy = None
        if proxy is not None:
            with ctx.server(proxy):
                m0 = proxy_metrics(proxy.url)
                r = run_clients(client_lists(proxy.url, previews), timeout, RETRIES)
                m1 = proxy_metrics(proxy.url)
                reads = metric_sum(m1, "proxy_storage_reads_total") - metric_sum(
                    m0, "proxy_storage_reads_total"
                )
                nbytes = metric_sum(m1, "proxy_storage_read_bytes_total") - metric_sum(
                    m0, "proxy_storage_read_bytes_total"
                )
                heads = metric_sum(m1, "proxy_storage_heads_total") - metric_sum(
                    m0, "proxy_storage_heads_total"
                )
                renders = metric_sum(m1, "proxy_renders_total") - metric_sum(
                    m0, "proxy_renders_total"
                )
                # Once every object is due for its check: the same load again, all warm.
                time.sleep(REVALIDATE + 0.5)
                w0 = proxy_metrics(proxy.url)
                warm = run_clients(client_lists(proxy.url, previews), timeout, RETRIES)
                w1 = proxy_metrics(proxy.url)

                def grew(name: str) -> float:
                    return metric_sum(w1, name) - metric_sum(w0, name)

                warm_heads = grew("proxy_storage_heads_total")
                warm_reads = grew("proxy_storage_reads_total")
                intervals = max(1.0, warm.elapsed / REVALIDATE)
                per_object = warm_heads / len(images.REMOTE) / intervals
                warm_row = (
                    _row(
                        f"proxy, warm, after CACHE_STORAGE_REVALIDATE={REVALIDATE:g}s",
                        warm, warm_reads, grew("proxy_storage_read_bytes_total"), None,
                        warm_heads, grew("proxy_renders_total"),
                    )
                )  # fmt: skip
                data["proxy_revalidation"] = {
                    "interval": REVALIDATE,
                    "seconds": warm.elapsed,
                    "heads": warm_heads,
                    "gets": warm_reads,
                    "heads_per_object_per_interval": per_object,
                }
                revalidated = per_object <= 1 and warm_reads == 0 and warm.failed == 0
                sec.notes.append(
                    f"**{'PASS' if revalidated else 'FAIL'}**: revalidation: the warm pass, "
                    "run once every object was due for its check, "
                    f"made {warm_heads:.0f} HEADs and {warm_reads:.0f} GETs for "
                    f"{len(images.REMOTE)} unchanged objects in {warm.elapsed:.1f} s "
                    f"({per_object:.2f} HEADs per object per {REVALIDATE:g} s interval; "
                    "at most 1 is the design, 0 GETs)."
                )
            gets_at_moto = moto_gets(moto.log_path.read_text(errors="replace")) - log_before
            log(
                f"  proxy: {r.ok} ok / {r.failed} failed in {r.elapsed:.1f} s; store reads "
                f"{reads:.0f} ({nbytes / 1e6:.1f} MB), moto GETs {gets_at_moto}, heads {heads:.0f}"
            )
            rows.append(
                _row("proxy (minio provider)", r, reads, nbytes, gets_at_moto, heads, renders)
            )
            rows.append(warm_row)
            data["proxy"] = {
                "ok": r.ok,
                "failed": r.failed,
                "reads": reads,
                "bytes": nbytes,
                "moto_gets": gets_at_moto,
                "heads": heads,
                "renders": renders,
                "seconds": r.elapsed,
            }
            if r.failed:
                sec.notes.append(f"proxy: {r.failed} requests failed, e.g. {r.first_error}")
            if r.retried_503:
                sec.notes.append(
                    f"The proxy shed {r.retried_503} requests with 503 (render queue full, "
                    "`PREVIEWS_QUEUE`); the clients retried them after `Retry-After`."
                )
            verdict = "PASS" if reads == expected_reads and r.failed == 0 else "FAIL"
            sec.notes.append(
                f"**{verdict}**: the proxy made {reads:.0f} store reads "
                f"({nbytes:,.0f} bytes) for {len(images.REMOTE)} objects "
                f"(expected exactly {expected_reads}, {expected_bytes:,} bytes)"
                + (
                    f" and {renders:.0f} renders for {len(paths(True))} distinct previews."
                    if previews
                    else "."
                )
            )

    # --- nginx proxy_cache + lock in front of an origin -------------------------------------
    origin_port, front_port = free_port(), free_port()
    while front_port == origin_port:
        front_port = free_port()
    nginx_dir = WORK / "nginx" / "remote-cache"
    shutil.rmtree(nginx_dir, ignore_errors=True)
    access_log = WORK / "nginx" / "remote-origin-access.log"
    access_log.unlink(missing_ok=True)
    servers = f"""
    proxy_cache_path {nginx_dir} levels=1:2 keys_zone=remote:10m max_size=1g inactive=1h;
    upstream origin {{ server {HOST}:{origin_port}; keepalive 64; }}
    server {{
        listen {HOST}:{origin_port};
        root {images.STORAGE};
        access_log {access_log} bytes;
    }}
    server {{
        listen {HOST}:{front_port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_cache remote;
        proxy_cache_key $request_uri;
        proxy_cache_valid 200 1h;
        proxy_cache_lock on;
        proxy_cache_lock_timeout 120s;
        proxy_cache_lock_age 120s;
        location ~ ^/previews/.*/plain/(.+)$ {{ proxy_pass http://origin/$1; }}
        location / {{ proxy_pass http://origin; }}
    }}
"""
    nginx = start_nginx("nginx-remote", servers)
    with ctx.server(nginx):
        r = run_clients(client_lists(f"http://{HOST}:{front_port}", previews), timeout, RETRIES)
    hits, nbytes = _origin_log(access_log.read_text() if access_log.exists() else "")
    log(f"  nginx: {r.ok} ok / {r.failed} failed in {r.elapsed:.1f} s; origin hits {hits}")
    rows.append(_row("nginx proxy_cache + lock", r, hits, nbytes, None, None, None))
    data["nginx"] = {"ok": r.ok, "failed": r.failed, "origin_hits": hits, "bytes": nbytes}
    if r.failed:
        sec.notes.append(f"nginx: {r.failed} requests failed, e.g. {r.first_error}")

    sec.tables.append(
        (
            f"Expected for the proxy: {expected_reads} reads, {expected_bytes:,} bytes.",
            [
                "server",
                "requests ok",
                "failed",
                "seconds",
                "requests/s",
                "store / origin GETs",
                "bytes read at the store",
                "GETs seen by moto",
                "HEADs",
                "renders",
                "503s retried",
            ],
            rows,
        )
    )
    labels = [r_[0] for r_ in rows]
    sec.plots.append(
        report.grouped_bars(
            "remote_reads.png",
            "Remote GETs for 10 objects (lower is better; ideal 10)",
            labels,
            {"GETs at the store / origin": [float(r_[5].replace(",", "")) for r_ in rows]},
            "GETs",
        )
    )
    sec.data = data
    return sec


def _origin_log(text: str) -> tuple[int, int]:
    hits, nbytes = 0, 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "200":
            hits += 1
            nbytes += int(parts[2])
    return hits, nbytes


def _row(
    name: str,
    r: LoadResult,
    gets: float,
    nbytes: float,
    moto: int | None,
    heads: float | None,
    renders: float | None,
) -> list[str]:
    return [
        name,
        f"{r.ok:,}",
        str(r.failed),
        f"{r.elapsed:.1f}",
        report.fmt(r.per_s, 0),
        f"{gets:,.0f}",
        f"{nbytes:,.0f}",
        "-" if moto is None else str(moto),
        "-" if heads is None else f"{heads:.0f}",
        "-" if renders is None else f"{renders:.0f}",
        str(r.retried_503),
    ]
