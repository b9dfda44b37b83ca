"""Where a cold preview's time goes: the same thumbnails through each layer, in one run.

    .venv/bin/python -m benchmarks.cold_profile [seconds per row]

For each source, 2 x cores clients keep asking for a new width for the given time (10 s):

- in process: pyvips `thumbnail` + `jpegsave_buffer` in threads of this process, with as
  many threads as clients (the ceiling of scenario 2) and with as many as the proxy renders
  at once (the cores);
- the render pool without HTTP or cache (`proxy.jobs.pool.JobPool`, the source as a path, as
  the proxy hands it over), with libvips's threads per render as shipped and limited to 1,
  with the glibc arenas as shipped (2) and left to glibc, and with a render per client;
- the proxy itself is scenario 2 (`--only cold`).

Besides images/s each row gives how busy the machine's cores were (from /proc/stat): a
layer that leaves cores idle while clients wait is short of concurrency, not of speed.
Prints a Markdown table; nothing is written to results.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from benchmarks import images
from benchmarks.load import LoadResult
from benchmarks.scenarios.cold_previews import pyvips_loop, width
from proxy.blob import Blob
from proxy.jobs.pool import JobPool
from proxy.jobs.protocol import Job
from proxy.limits import SourceLimits
from proxy.previews.args import PreviewArgs, RenderSettings
from proxy.previews.options import Options

SETTINGS = RenderSettings(SourceLimits(100_000_000, 1 << 30), quality=70, format_quality={})


def busy_cores() -> Callable[[], float]:
    """Start counting; the returned function gives the cores busy on average since."""

    def read() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    start = read()

    def done() -> float:
        busy, total = read()
        share = (busy - start[0]) / max(total - start[1], 1)
        return share * (os.cpu_count() or 1)

    return done


async def pool_loop(
    src: images.Source, clients: int, renders: int, env: Mapping[str, str], duration: float
) -> LoadResult:
    pool = JobPool(renders, queue=clients, memory_limit=1 << 30, env=env)
    await pool.start()
    result = LoadResult()
    counter = iter(range(1 << 30))
    out = Path(tempfile.mkdtemp(prefix="cold-profile-"))
    blob = Blob(src.path.stat().st_size, path=src.path)
    try:
        # Every process started and warm before the clock runs, as the proxy's are.
        warm = [Job("preview", blob, PreviewArgs(Options(width=64), "jpeg", SETTINGS), out, "w")]
        await asyncio.gather(*(pool.run(j, timeout=60) for j in warm * renders))
        deadline = time.monotonic() + duration

        async def client() -> None:
            while time.monotonic() < deadline:
                i = next(counter)
                args = PreviewArgs(Options(width=width(i, src)), "jpeg", SETTINGS)
                t0 = time.perf_counter()
                done = await pool.run(Job("preview", blob, args, out, src.key), timeout=60)
                result.ok += 1
                result.bytes += len(done.body) if done.body else 0
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        result.elapsed = time.perf_counter() - t0
    finally:
        await pool.close()
    return result


def main() -> None:
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    cores = os.cpu_count() or 1
    clients = 2 * cores
    images.make_all(need_50mp=False, need_video=False)
    shipped = dict(os.environ)
    rows: list[tuple[str, Callable[[images.Source], LoadResult]]] = [
        (f"in process, {clients} threads (ceiling)",
         lambda s: pyvips_loop(s, clients, duration, 1 << 30)),
        (f"in process, {cores} threads",
         lambda s: pyvips_loop(s, cores, duration, 1 << 30)),
        (f"pool, {cores} renders (as shipped)",
         lambda s: asyncio.run(pool_loop(s, clients, cores, shipped, duration))),
        (f"pool, {cores} renders, VIPS_CONCURRENCY=1",
         lambda s: asyncio.run(
             pool_loop(s, clients, cores, {**shipped, "VIPS_CONCURRENCY": "1"}, duration))),
        (f"pool, {cores} renders, MALLOC_ARENA_MAX=8",
         lambda s: asyncio.run(
             pool_loop(s, clients, cores, {**shipped, "MALLOC_ARENA_MAX": "8"}, duration))),
        (f"pool, {clients} renders",
         lambda s: asyncio.run(pool_loop(s, clients, clients, shipped, duration))),
    ]  # fmt: skip
    print("| source | layer | images/s | vs ceiling | p50 ms | cores busy |")
    print("|---|---|---|---|---|---|")
    for src in (images.JPEG_1080P, images.JPEG_12MP, images.JPEG_48MP, images.PNG_ALPHA):
        ceiling = 0.0
        for name, run in rows:
            busy = busy_cores()
            result = run(src)
            cores_busy = busy()
            ceiling = ceiling or result.per_s
            print(
                f"| {src.label} | {name} | {result.per_s:.1f} | {result.per_s / ceiling:.2f}x | "
                f"{result.pct(50):.0f} | {cores_busy:.2f} of {cores} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
