"""What the proxy may take of a machine's memory at worst, and whether its container allows it.

Each render process may grow by `PREVIEWS_MEMORY_LIMIT` beyond its own start-up before its
job is killed (`jobs/process.py`), each worker runs `PREVIEWS_CONCURRENCY` jobs at once, and
each worker's caches keep up to `CACHE_MEMORY_SIZE` of hot bodies in memory. So the worst
case is what the processes take idle, plus a memory tier per worker, plus one limit per
render that can run at once: the figure an operator sizes a container by, and the one the start refuses when the
container's cgroup cannot hold it (the OOM killer would otherwise take the whole node down,
cache hits included, instead of one render being answered 422).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from proxy.jobs.pool import SPARES
from proxy.settings import Settings
from proxy.units import format_size

# Resident memory of each kind of process idle, as measured with `serve --workers 2` on
# 2026-12-07 (RSS from /proc/<pid>/smaps_rollup; RSS counts the pages they share once per
# process, so these add up to more than the cgroup is charged: a margin, not a gap). A
# worker loads no decoder (26 and 50 MiB measured, with room for its buffers); a render
# process is 40 MiB with the preview renderer, 72 once a conversion or a video loaded the rest.
SUPERVISOR_RSS = 32 << 20
WORKER_RSS = 60 << 20
RENDER_PROCESS_RSS = 72 << 20

CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as a page-rounded LONG_MAX.
NO_LIMIT = 1 << 60


@dataclass(frozen=True)
class MemoryPlan:
    workers: int
    concurrency: int  # renders at once per worker
    render_limit: int  # PREVIEWS_MEMORY_LIMIT
    memory_tier: int = 0  # CACHE_MEMORY_SIZE: each worker's hot bodies, all its caches together

    @classmethod
    def of(cls, settings: Settings) -> MemoryPlan:
        previews = settings.previews
        return cls(
            settings.workers, previews.concurrency, previews.memory_limit,
            settings.memory_cache_size,
        )  # fmt: skip

    @property
    def renders_at_once(self) -> int:
        return self.workers * self.concurrency

    @property
    def baseline(self) -> int:
        """Every process idle, the memory tiers full: the supervisor (with more than one
        worker), the workers and their render processes (one per slot and the spares)."""
        supervisor = SUPERVISOR_RSS if self.workers > 1 else 0
        renders = (self.concurrency + SPARES) * RENDER_PROCESS_RSS
        return supervisor + self.workers * (WORKER_RSS + self.memory_tier + renders)

    @property
    def worst_case(self) -> int:
        return self.baseline + self.renders_at_once * self.render_limit

    def as_json(self, container_limit: int | None) -> dict[str, object]:
        return {
            "workers": self.workers,
            "renders_at_once": self.renders_at_once,
            "render_memory_limit": self.render_limit,
            "memory_tier": self.memory_tier,
            "baseline": self.baseline,
            "worst_case": self.worst_case,
            "container_limit": container_limit,
        }

    def problem(self, container_limit: int | None) -> str | None:
        """Why this plan does not fit the container, naming what to change; None if it fits."""
        if container_limit is None or self.worst_case <= container_limit:
            return None
        return (
            f"PREVIEWS_MEMORY_LIMIT={format_size(self.render_limit)} x {self.renders_at_once} "
            f"renders at once (PREVIEWS_CONCURRENCY={self.concurrency} x {self.workers} "
            f"workers) + {format_size(self.baseline)} for the processes idle and their memory "
            f"tiers (CACHE_MEMORY_SIZE) = "
            f"{format_size(self.worst_case)}, more than the cgroup's memory.max "
            f"({format_size(container_limit)}): lower PREVIEWS_MEMORY_LIMIT, "
            "PREVIEWS_CONCURRENCY or --workers, or give the container more memory"
        )


def container_memory_limit(root: Path | None = None) -> int | None:
    """The tightest memory limit of this process's cgroup and its parents (v2 `memory.max`,
    v1 `memory.limit_in_bytes`); None when there is none or it cannot be read."""
    found = memory_cgroup(root)
    if found is None:
        return None
    mount, own, name = found
    folders = [mount / own, *(mount / parent for parent in own.parents)]
    limits = [n for folder in folders if (n := _read_limit(folder / name)) is not None]
    return min(limits) if limits else None


def memory_cgroup(root: Path | None = None) -> tuple[Path, Path, str] | None:
    """Where this process's memory cgroup is: the hierarchy's mount, the cgroup's path in it,
    and the name of its limit file. cgroup v2 has one hierarchy (`0::/path` in
    /proc/self/cgroup); v1 has a memory one (`N:memory[,...]:/path`)."""
    root = CGROUP_ROOT if root is None else root
    v2 = (root / "cgroup.controllers").exists()
    mount, name = (root, "memory.max") if v2 else (root / "memory", "memory.limit_in_bytes")
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        mine = hierarchy == "0" and not controllers if v2 else "memory" in controllers.split(",")
        if mine:
            return mount, Path(path.lstrip("/")), name
    return None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():  # "max", or nothing there
        return None
    value = int(text)
    return value if value < NO_LIMIT else None
