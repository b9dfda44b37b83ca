"""Scenario 1: cache hits. A 300px preview from the preview cache vs nginx static (the ceiling),
nginx proxy_cache hits in front of the proxy, and thumbor result-storage hits."""

from __future__ import annotations

import shutil

from benchmarks import images, report
from benchmarks.harness import (
    HOST,
    WORK,
    Context,
    Section,
    http_get,
    log,
    start_nginx,
    start_proxy,
    start_thumbor,
    thumbor_installed,
    wrk,
)

CONNECTIONS = (1, 16, 128)
SOURCE = images.JPEG_12MP


def run(ctx: Context) -> Section:
    sec = Section(
        "cache_hits",
        "1. Cache hits: a 300px preview served from a cache",
        "Each server answers the same URL over and over with wrk (`--latency`, keep-alive, "
        "1 thread for 1 connection, 2 threads otherwise). nginx serving the same bytes as a "
        "static file is the ceiling; ratios are to it at the same number of connections.",
    )
    if ctx.previews_ok:
        path = f"/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/{SOURCE.source}"
        what = f"a 300px-wide JPEG preview (q:70) of the {SOURCE.label}"
        proxy_label = "proxy (preview cache)"
    else:
        path = f"/{images.JPEG_1080P.source}"
        what = f"the original {images.JPEG_1080P.label} from the storage cache (previews missing)"
        proxy_label = "proxy (original, storage cache)"
        sec.notes.append(
            f"Previews are not available ({ctx.previews_note}): the proxy rows measure the "
            "originals route instead, so the harness still runs; thumbor still serves its "
            "300px result-storage hit, so compare thumbor with nginx only."
        )
    duration = ctx.seconds(3, 10)
    results: dict[str, dict[int, object]] = {}

    proxy = start_proxy("proxy-hits", images.DATA, ctx.env, fresh_caches=False, workers=ctx.workers)
    with ctx.server(proxy):
        url = proxy.url + path
        status, body, headers = http_get(url)
        if status != 200:
            sec.skipped = f"the proxy answered {status} for {path}"
            return sec
        status, body, headers = http_get(url)
        sec.notes.append(
            f"Proxy answer: {len(body):,} bytes, `X-Cache-Status: "
            f"{headers.get('X-Cache-Status', '-')}` on the second request ({what})."
        )
        static_dir = WORK / "static"
        shutil.rmtree(static_dir, ignore_errors=True)
        static_dir.mkdir(parents=True)
        (static_dir / "preview.jpg").write_bytes(body)

        static_port, cache_port = _ports()
        cache_dir = WORK / "nginx" / "hits-cache"
        servers = f"""
    proxy_cache_path {cache_dir} levels=1:2 keys_zone=hits:10m max_size=1g inactive=1h;
    upstream proxy {{ server {HOST}:{proxy.port}; keepalive 64; }}
    server {{
        listen {HOST}:{static_port};
        root {static_dir};
        location / {{ add_header Cache-Control "max-age=86400"; }}
    }}
    server {{
        listen {HOST}:{cache_port};
        location / {{
            proxy_pass http://proxy;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache hits;
            proxy_cache_key $request_uri;
            proxy_cache_valid 200 1h;
            proxy_cache_lock on;
            add_header X-Nginx-Cache $upstream_cache_status;
        }}
    }}
"""
        shutil.rmtree(cache_dir, ignore_errors=True)
        nginx = start_nginx("nginx-hits", servers)
        with ctx.server(nginx):
            targets = {
                "nginx static": f"http://{HOST}:{static_port}/preview.jpg",
                proxy_label: url,
                "nginx proxy_cache": f"http://{HOST}:{cache_port}{path}",
            }
            for _ in range(2):
                _, _, h = http_get(targets["nginx proxy_cache"])
            sec.notes.append(
                f"nginx proxy_cache in front of the proxy: `X-Nginx-Cache: "
                f"{h.get('X-Nginx-Cache', '-')}` after warming."
            )
            # interleaved (each connection count, every server in turn) so background load
            # drifts hurt every server alike
            for c in CONNECTIONS:
                for name, target in targets.items():
                    results.setdefault(name, {})[c] = _measure(name, target, c, duration)

    if thumbor_installed():
        try:
            thumbor = start_thumbor(
                "thumbor-hits", images.STORAGE, processes=ctx.cores, result_storage=True
            )
        except RuntimeError as exc:
            sec.notes.append(f"thumbor did not start: {exc}")
        else:
            with ctx.server(thumbor):
                t_url = f"{thumbor.url}/unsafe/300x0/filters:quality(70)/{SOURCE.source}"
                for _ in range(ctx.cores + 2):  # every process renders once, then hits
                    status, body, _ = http_get(t_url)
                if status == 200:
                    sec.notes.append(
                        f"thumbor ({ctx.cores} processes, file result storage) answers "
                        f"{len(body):,} bytes for `/unsafe/300x0/filters:quality(70)/...`."
                    )
                    results["thumbor (result storage)"] = {
                        c: _measure("thumbor", t_url, c, duration) for c in CONNECTIONS
                    }
                else:
                    sec.notes.append(f"thumbor answered {status}: {body[:200]!r}")
    else:
        sec.notes.append("thumbor is not installed: no thumbor row.")

    base = results.get("nginx static", {})
    rows = []
    for name, per_conn in results.items():
        for c in CONNECTIONS:
            r = per_conn.get(c)
            if r is None:
                continue
            ref = base.get(c)
            rows.append(
                [
                    name,
                    str(c),
                    report.fmt(r.rps, 0),
                    report.fmt(r.p50_ms, 2),
                    report.fmt(r.p99_ms, 2),
                    report.ratio(r.rps, ref.rps) if ref else "-",
                    str(r.non_2xx + r.errors),
                ]
            )
    sec.tables.append(
        (
            "",
            [
                "server",
                "connections",
                "requests/s",
                "p50 ms",
                "p99 ms",
                "vs nginx static",
                "errors",
            ],
            rows,
        )
    )
    groups = [f"{c} conn" for c in CONNECTIONS]
    sec.plots.append(
        report.grouped_bars(
            "cache_hits_rps.png",
            "Cache hits: requests/s (higher is better)",
            groups,
            {
                n: [getattr(pc.get(c), "rps", float("nan")) for c in CONNECTIONS]
                for n, pc in results.items()
            },
            "requests/s",
            log=True,
        )
    )
    sec.plots.append(
        report.grouped_bars(
            "cache_hits_p99.png",
            "Cache hits: p99 latency (lower is better)",
            groups,
            {
                n: [getattr(pc.get(c), "p99_ms", float("nan")) for c in CONNECTIONS]
                for n, pc in results.items()
            },
            "p99 ms",
            log=True,
        )
    )
    sec.data = {
        n: {c: {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms} for c, r in pc.items()}
        for n, pc in results.items()
    }
    return sec


def _ports() -> tuple[int, int]:
    from benchmarks.harness import free_port

    a = free_port()
    b = free_port()
    while b == a:
        b = free_port()
    return a, b


def _measure(name: str, url: str, c: int, duration: float):  # -> WrkResult
    r = wrk(url, c, duration, threads=1 if c == 1 else 2)
    log(f"  {name:28s} c={c:<4d} {r.rps:10.0f} req/s  p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms")
    return r
