"""The memory plan: the worst case an operator sizes a container by, the defaults that fit
2 GiB with 2 workers, /health's figure, and a start refused by a cgroup that cannot hold it
(a real memory cgroup of this machine's, made for the test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.jobs import budget
from proxy.jobs.budget import MemoryPlan, container_memory_limit, memory_cgroup
from proxy.settings import load, parse_settings

ROOT = Path(__file__).resolve().parents[2]


def settings_for(workers: int, cores: int, monkeypatch: pytest.MonkeyPatch, **env: str):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(load, "available_cores", lambda: cores)
    return parse_settings({"DATA_PATH": "/tmp/unused", **env}, workers=workers)


def test_the_worst_case_is_the_processes_idle_and_a_limit_per_render_at_once() -> None:
    plan = MemoryPlan(workers=3, concurrency=2, render_limit=500 << 20, memory_tier=64 << 20)
    assert plan.renders_at_once == 6
    idle = budget.SUPERVISOR_RSS + 3 * (
        budget.WORKER_RSS + (64 << 20) + (2 + budget.SPARES) * budget.RENDER_PROCESS_RSS
    )
    assert plan.baseline == idle
    assert plan.worst_case == idle + 6 * (500 << 20)
    assert MemoryPlan(1, 1, 1 << 20).baseline == budget.WORKER_RSS + 2 * budget.RENDER_PROCESS_RSS


def test_the_defaults_fit_two_gib_with_two_workers_on_two_cores(monkeypatch) -> None:
    settings = settings_for(2, 2, monkeypatch)
    assert settings.previews.concurrency == 1  # the two cores are shared by the two workers
    plan = MemoryPlan.of(settings)
    assert plan.memory_tier == 64 << 20  # one tier per worker, shared by its three caches
    assert plan.worst_case <= 2 << 30
    assert plan.problem(2 << 30) is None


def test_one_process_keeps_a_render_per_core(monkeypatch) -> None:
    assert settings_for(1, 8, monkeypatch).previews.concurrency == 8
    assert settings_for(16, 8, monkeypatch).previews.concurrency == 1
    assert settings_for(2, 8, monkeypatch, PREVIEWS_CONCURRENCY="3").previews.concurrency == 3


def test_a_plan_past_the_container_names_the_settings_and_the_limit() -> None:
    plan = MemoryPlan(workers=2, concurrency=2, render_limit=1 << 30)
    problem = plan.problem(2 << 30)
    assert problem is not None
    assert "PREVIEWS_MEMORY_LIMIT=1.0 GiB x 4 renders at once" in problem
    assert "PREVIEWS_CONCURRENCY=2 x 2 workers" in problem
    assert "more than the cgroup's memory.max (2.0 GiB)" in problem
    assert plan.problem(None) is None  # no container limit: nothing to hold it to


def test_the_container_limit_is_read_from_memory_max(tmp_path) -> None:
    assert container_memory_limit(tmp_path) is None  # no cgroup files at all
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")  # cgroup v2
    (tmp_path / "memory.max").write_text("max\n")
    assert container_memory_limit(tmp_path) is None  # v2's "no limit"
    (tmp_path / "memory.max").write_text("2147483648\n")
    assert container_memory_limit(tmp_path) == 2 << 30


def test_cgroup_v1_no_limit_is_none(tmp_path) -> None:
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert container_memory_limit(tmp_path) is None  # a page-rounded LONG_MAX


async def test_health_states_the_plan(make_client, make_settings) -> None:
    settings = make_settings(PREVIEWS_CONCURRENCY="2", PREVIEWS_MEMORY_LIMIT="256m")
    client = await make_client(settings)
    memory = (await (await client.get("/health")).json())["memory"]
    plan = MemoryPlan(1, 2, 256 << 20, 64 << 20)
    assert memory == {**plan.as_json(container_memory_limit()), "workers": 1}
    assert memory["worst_case"] == plan.baseline + 2 * (256 << 20)


@pytest.fixture
def small_cgroup(tmp_path):  # type: ignore[no-untyped-def]
    """A child memory cgroup of this process's, limited to 1 GiB, removed afterwards."""
    found = memory_cgroup()
    if found is None or not os.access(found[0] / found[1], os.W_OK):
        pytest.skip("no writable memory cgroup on this machine (needs root)")
    mount, own, limit_file = found
    child = mount / own / f"proxy-test-{os.getpid()}"
    child.mkdir()
    (child / limit_file).write_text(str(1 << 30))
    try:
        yield child
    finally:
        child.rmdir()


def test_serve_refuses_to_start_where_the_cgroup_cannot_hold_the_worst_case(
    small_cgroup, data_path
) -> None:
    procs = small_cgroup / "cgroup.procs"

    def enter() -> None:
        procs.write_text(str(os.getpid()))

    env = {
        **os.environ,
        "DATA_PATH": str(data_path),
        "PREVIEWS_MEMORY_LIMIT": "640m",
        "PREVIEWS_CONCURRENCY": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "serve", "--workers", "2", "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, preexec_fn=enter,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("PREVIEWS_MEMORY_LIMIT=640.0 MiB x 2 renders at once")
    assert "more than the cgroup's memory.max (1.0 GiB)" in line
