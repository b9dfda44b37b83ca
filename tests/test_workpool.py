import asyncio
import threading

import pytest

from proxy.errors import GatewayTimeout, ServiceUnavailable
from proxy.metrics_export import render_metrics
from proxy.workpool import Cancelled, Token, WorkPool
from tests.conftest import metric_value


def _metric(name: str) -> float:
    return metric_value(render_metrics().decode(), name)


async def test_runs_off_the_event_loop():
    pool = WorkPool(concurrency=1, queue=0)
    try:
        name = await pool.run(lambda token: threading.current_thread().name)
        assert name.startswith("work")
    finally:
        pool.close()


async def test_waits_beyond_concurrency_and_refuses_beyond_the_queue():
    pool = WorkPool(concurrency=2, queue=1)
    release = threading.Event()
    started = threading.Semaphore(0)

    def block(token: Token) -> str:
        started.release()
        release.wait(10)
        return "done"

    rejected_before = _metric("proxy_renders_rejected_total")
    try:
        running = [asyncio.create_task(pool.run(block)) for _ in range(2)]
        for _ in range(2):
            await asyncio.to_thread(started.acquire)
        waiting = asyncio.create_task(pool.run(block))
        await asyncio.sleep(0)
        assert _metric("proxy_render_queue_depth") == 1
        with pytest.raises(ServiceUnavailable) as caught:
            await pool.run(block)
        assert caught.value.headers["Retry-After"] == "1"
        assert _metric("proxy_renders_rejected_total") == rejected_before + 1
        release.set()
        assert await asyncio.gather(*running, waiting) == ["done"] * 3
        assert _metric("proxy_render_queue_depth") == 0
    finally:
        release.set()
        pool.close()


async def test_errors_free_the_slot():
    pool = WorkPool(concurrency=1, queue=0)

    def fail(token: Token) -> None:
        raise ValueError("boom")

    try:
        with pytest.raises(ValueError):
            await pool.run(fail)
        assert await pool.run(lambda token: 42) == 42
    finally:
        pool.close()


async def test_a_stuck_job_is_504_told_to_stop_and_holds_its_slot_until_it_does():
    pool = WorkPool(concurrency=1, queue=0)
    release = threading.Event()
    seen: list[Token] = []

    def stuck(token: Token) -> None:
        seen.append(token)
        while not release.wait(0.01):
            token.check()

    try:
        with pytest.raises(GatewayTimeout):
            await pool.run(stuck, timeout=0.2)
        assert seen[0].cancelled
        with pytest.raises(Cancelled):
            seen[0].check()
        # The thread stopped at its next check, so the slot is free again.
        await asyncio.sleep(0.1)
        assert await pool.run(lambda token: "free") == "free"
    finally:
        release.set()
        pool.close()


async def test_a_cancelled_waiter_tells_its_job_to_stop():
    pool = WorkPool(concurrency=1, queue=0)
    started = threading.Event()
    stopped = threading.Event()

    def loop_until_told(token: Token) -> None:
        started.set()
        try:
            while True:
                token.check()
                threading.Event().wait(0.01)
        finally:
            stopped.set()

    try:
        task = asyncio.create_task(pool.run(loop_until_told))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(stopped.wait, 5)
    finally:
        pool.close()
