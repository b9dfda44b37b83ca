"""The pool of render processes: real processes, real renders, and jobs that go wrong."""

import asyncio

import pytest

from proxy.errors import GatewayTimeout, ServiceUnavailable, Unprocessable, UnsupportedMediaType
from proxy.jobs.pool import JobPool
from proxy.metrics_export import render_metrics
from proxy.sniff import sniff
from tests.conftest import metric_value
from tests.jobs.helpers import CRASH, EAT, SPIN, held, image, preview_job

MIB = 1 << 20


def jobs_ended(outcome: str) -> float:
    return metric_value(
        render_metrics().decode(), "proxy_render_jobs_total", kind="preview", outcome=outcome
    )


@pytest.fixture
async def pool():
    pool = JobPool(concurrency=1, queue=1, memory_limit=256 * MIB)
    await pool.start()
    yield pool
    await pool.close()


async def pids(pool: JobPool) -> set[int]:
    """The processes ready for a job, once they all are (one per slot and the spare)."""
    for _ in range(2000):
        ready = pool.idle_pids()
        if len(ready) == pool.concurrency + 1:
            return ready
        await asyncio.sleep(0.005)
    raise AssertionError("the render processes did not come back")


async def until(condition) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


async def test_a_render_comes_back_from_another_process(pool, tmp_path):
    import os

    result = await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert sniff(result.body).format == "jpeg"
    assert os.getpid() not in await pids(pool)


async def test_beyond_concurrency_jobs_wait_and_beyond_the_queue_503(pool, tmp_path):
    gate = tmp_path / "gate"
    rejected = metric_value(render_metrics().decode(), "proxy_renders_rejected_total")
    running = asyncio.create_task(pool.run(preview_job(tmp_path, held(gate)), timeout=30))
    await until(lambda: pool.running == 1)
    waiting = asyncio.create_task(pool.run(preview_job(tmp_path, image()), timeout=30))
    await until(lambda: pool.waiting == 1)
    with pytest.raises(ServiceUnavailable) as refused:
        await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert refused.value.headers["Retry-After"] == "1"
    assert metric_value(render_metrics().decode(), "proxy_renders_rejected_total") == rejected + 1
    gate.touch()
    assert [sniff(r.body).format for r in await asyncio.gather(running, waiting)] == ["jpeg"] * 2


async def test_a_job_past_its_time_is_killed_and_its_slot_free_at_once(pool, tmp_path):
    before = await pids(pool)
    timeouts = jobs_ended("timeout")
    with pytest.raises(GatewayTimeout):
        await pool.run(preview_job(tmp_path, SPIN), timeout=0.5)
    assert jobs_ended("timeout") == timeouts + 1
    # The spinning process is gone and the next job runs at once, in a fresh one.
    result = await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert sniff(result.body).format == "jpeg"
    assert len(before - await pids(pool)) == 1  # the spinning one is gone, replaced


async def test_a_job_nobody_waits_for_is_killed(pool, tmp_path):
    gate = tmp_path / "never"
    before = await pids(pool)
    cancelled = jobs_ended("cancelled")
    task = asyncio.create_task(pool.run(preview_job(tmp_path, held(gate)), timeout=30))
    await until(lambda: pool.running == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.running == 0 and jobs_ended("cancelled") == cancelled + 1
    result = await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert sniff(result.body).format == "jpeg"
    assert len(before - await pids(pool)) == 1  # the one that ran it is gone, replaced


async def test_a_crash_costs_one_job(pool, tmp_path, caplog):
    crashes = jobs_ended("crash")
    with pytest.raises(Unprocessable, match="decoder crashed"):
        await pool.run(preview_job(tmp_path, CRASH, name="abc/crash.jpg"), timeout=30)
    assert jobs_ended("crash") == crashes + 1
    assert "crashed on abc/crash.jpg (SIGSEGV)" in caplog.text
    result = await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert sniff(result.body).format == "jpeg"


async def test_a_job_past_its_memory_is_killed_and_answered_422(pool, tmp_path):
    refusals = jobs_ended("memory")
    with pytest.raises(Unprocessable, match="needs more than 256 MiB"):
        await pool.run(preview_job(tmp_path, EAT), timeout=30)
    assert jobs_ended("memory") == refusals + 1
    result = await pool.run(preview_job(tmp_path, image()), timeout=30)
    assert sniff(result.body).format == "jpeg"


async def test_a_refused_source_keeps_its_process(pool, tmp_path):
    before = await pids(pool)
    with pytest.raises(UnsupportedMediaType):
        await pool.run(preview_job(tmp_path, b"not an image at all"), timeout=30)
    assert await pids(pool) == before


async def test_processes_are_replaced_after_their_share_of_jobs(tmp_path):
    pool = JobPool(concurrency=1, queue=0, memory_limit=256 * MIB, jobs_per_process=2)
    await pool.start()
    try:
        seen = set()
        for _ in range(4):
            await pool.run(preview_job(tmp_path, image()), timeout=30)
            seen |= await pids(pool)
        assert len(seen) >= 2
    finally:
        await pool.close()


async def test_large_outputs_come_back_in_a_file(pool, tmp_path):
    from proxy.jobs.protocol import INLINE_OUTPUT
    from tests.conftest import encode_image

    big = encode_image(3000, 3000, ".png")
    job = preview_job(tmp_path, big, width=3000)
    result = await pool.run(job, timeout=60)
    assert result.body is None and result.file == job.output
    assert result.size > INLINE_OUTPUT and sniff(job.output.read_bytes()).format == "png"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_idle_pool_stops_its_processes_and_starts_them_for_the_next_job(tmp_path):
    import os

    clock = Clock()
    pool = JobPool(concurrency=1, queue=1, memory_limit=256 * MIB, idle_timeout=60, clock=clock)
    await pool.start()
    try:
        await pool.run(preview_job(tmp_path, image()), timeout=30)
        first = await pids(pool)
        clock.now += 59
        assert not pool.retire_if_idle()  # not idle for long enough yet
        clock.now += 2
        assert pool.retire_if_idle()
        assert pool.idle_pids() == set()
        for pid in first:  # gone from the machine, not only from the pool
            await until(lambda pid=pid: not os.path.exists(f"/proc/{pid}") or _zombie(pid))
        clock.now += 600
        await asyncio.sleep(0)
        assert pool.idle_pids() == set()  # nothing restarts them but a job
        result = await pool.run(preview_job(tmp_path, image()), timeout=30)
        assert sniff(result.body).format == "jpeg"
        assert (await pids(pool)).isdisjoint(first)
    finally:
        await pool.close()


async def test_a_pool_with_an_idle_timeout_starts_its_processes_for_its_first_job(tmp_path):
    lazy = JobPool(concurrency=1, queue=1, memory_limit=256 * MIB, idle_timeout=60)
    eager = JobPool(concurrency=1, queue=1, memory_limit=256 * MIB)
    await lazy.start()
    await eager.start()
    try:
        assert len(await pids(eager)) == 2  # no idle timeout: kept ready from the start
        assert lazy.idle_pids() == set()  # started at the same time, and still none
        result = await lazy.run(preview_job(tmp_path, image()), timeout=30)
        assert sniff(result.body).format == "jpeg"
        assert len(await pids(lazy)) == 2  # and then the slot's and the spare, as always
    finally:
        await lazy.close()
        await eager.close()


async def test_a_running_job_keeps_the_pool_from_retiring(tmp_path):
    clock = Clock()
    pool = JobPool(concurrency=1, queue=1, memory_limit=256 * MIB, idle_timeout=60, clock=clock)
    await pool.start()
    gate = tmp_path / "gate"
    try:
        running = asyncio.create_task(pool.run(preview_job(tmp_path, held(gate)), timeout=30))
        await until(lambda: pool.running == 1)
        clock.now += 600
        assert not pool.retire_if_idle()
        gate.write_bytes(b"go")
        await running
        assert not pool.retire_if_idle()  # the job's end counts as its last use
    finally:
        await pool.close()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
