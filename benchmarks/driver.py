"""Runs the benchmark scenarios and writes benchmarks/results/ (results.md, results.json, *.png).

Usage (from the repository root, after benchmarks/run.sh installed the tools):
    .venv/bin/python -m benchmarks [--quick] [--only cache_hits,working_set,cold,remote,streaming,memory,cluster,info]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from importlib import metadata

from benchmarks import images
from benchmarks.harness import (
    RESULTS,
    ROOT,
    THUMBOR_VENV,
    Context,
    Section,
    http_get,
    log,
    previews_available,
    start_proxy,
    tool_version,
)

SCENARIOS = {
    "cache_hits": "benchmarks.scenarios.cache_hits",
    "working_set": "benchmarks.scenarios.working_set",
    "cold": "benchmarks.scenarios.cold_previews",
    "remote": "benchmarks.scenarios.remote",
    "streaming": "benchmarks.scenarios.streaming",
    "memory": "benchmarks.scenarios.memory",
    "cluster": "benchmarks.scenarios.cluster",
    "info": "benchmarks.scenarios.info_reads",
}

# What every proxy instance runs with (DATA_PATH is set per instance).
PROXY_ENV = {
    "STORAGE_PROVIDER": "http",
    "STORAGE_BUCKETS": "bench",
    "CACHE_STORAGE_SIZE": "4g",
    "CACHE_PREVIEWS_SIZE": "1g",
}


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "OS": _os_name(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def versions() -> dict[str, str]:
    import pyvips

    def pkg(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    thumbor = tool_version([str(THUMBOR_VENV / "bin" / "thumbor"), "--version"])
    return {
        "proxy (git HEAD, plus uncommitted work in the tree)": rev or "?",
        "Python": platform.python_version(),
        "libvips (pyvips)": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} "
        f"(pyvips {pkg('pyvips')})",
        "aiohttp": pkg("aiohttp"),
        "nginx": tool_version(["nginx", "-v"]),
        "wrk": tool_version(["wrk", "-v"]).split(" Copyright")[0],
        "thumbor": thumbor,
        "moto": pkg("moto"),
        "curl": tool_version(["curl", "--version"]).split(" (")[0],
    }


def check_previews(ctx: Context) -> None:
    proxy = start_proxy("proxy-probe", images.DATA, ctx.env, fresh_caches=True, workers=ctx.workers)
    with ctx.server(proxy):
        status, body, _ = http_get(f"{proxy.url}/{images.JPEG_1080P.source}")
        if status != 200:
            raise SystemExit(f"the proxy cannot serve an original ({status}): {body[:300]!r}")
        ctx.previews_ok, ctx.previews_note = previews_available(proxy, images.JPEG_1080P.source)
    log(f"previews route: {'available' if ctx.previews_ok else ctx.previews_note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, done within 5 minutes")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="proxy worker processes (default: cores)"
    )
    parser.add_argument(
        "--no-previews",
        action="store_true",
        help="act as if /previews answered 404 (tests the originals-only fallbacks)",
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    for tool in ("wrk", "nginx", "curl", "haproxy"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            log(f"warning: {tool} is not installed; run benchmarks/run.sh to install it")

    t_start = time.monotonic()
    cores = os.cpu_count() or 1
    ctx = Context(quick=args.quick, cores=cores, env=dict(PROXY_ENV), workers=args.workers or cores)
    images.make_all(need_50mp="memory" in chosen or "info" in chosen, need_video="info" in chosen)
    sections: list[Section] = []
    try:
        check_previews(ctx)
        if args.no_previews:
            ctx.previews_ok, ctx.previews_note = False, "`--no-previews` was given"
        for name in chosen:
            log(f"scenario {name}")
            t0 = time.monotonic()
            try:
                section = importlib.import_module(SCENARIOS[name]).run(ctx)
            except Exception as exc:
                traceback.print_exc()
                section = Section(name, f"{name} (failed)", skipped=f"the scenario failed: {exc}")
            finally:
                ctx.stop_all()
            section.seconds = time.monotonic() - t0
            sections.append(section)
            log(f"scenario {name} done in {section.seconds:.0f} s")
    finally:
        ctx.stop_all()

    from benchmarks import report

    notes = []
    if not ctx.previews_ok:
        notes.append(
            f"The /previews route is not available in this tree ({ctx.previews_note}); "
            "the scenarios that need it say what they measured instead or skip themselves."
        )
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mode": "quick" if args.quick else "full",
        "seconds": time.monotonic() - t_start,
        "command": "./benchmarks/run.sh"
        + (" --quick" if args.quick else "")
        + (f" --only {args.only}" if args.only else ""),
        "notes": notes,
    }
    settings = {
        "DATA_PATH": "benchmarks/work/data (per instance)",
        "serve --workers": str(ctx.workers),
        **ctx.env,
    }
    md = report.write(sections, machine(), versions(), settings, meta, order=list(SCENARIOS))
    log(f"wrote {md} and {len(list(RESULTS.glob('*.png')))} plots in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
