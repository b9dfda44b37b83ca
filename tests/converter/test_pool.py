import asyncio
import threading

import pytest

from proxy.converter.pool import Cancelled, Pool, Token
from proxy.errors import GatewayTimeout, ServiceUnavailable


async def test_runs_jobs_in_a_worker_thread():
    pool = Pool(workers=1, queue=0, timeout=10)
    try:
        assert await pool.run(lambda token: threading.current_thread().name) != "MainThread"
    finally:
        pool.close()


async def test_full_pool_answers_503_and_a_stuck_job_504():
    pool = Pool(workers=1, queue=0, timeout=0.2)
    release = threading.Event()
    seen: list[Token] = []

    def stuck(token: Token) -> None:
        seen.append(token)
        while not release.wait(0.01):
            token.check()

    try:
        first = asyncio.create_task(pool.run(stuck))
        await asyncio.sleep(0.05)
        with pytest.raises(ServiceUnavailable):
            await pool.run(lambda token: None)
        with pytest.raises(GatewayTimeout):
            await first
        assert seen[0].cancelled
        with pytest.raises(Cancelled):
            seen[0].check()
    finally:
        release.set()
        pool.close()


async def test_close_tells_running_jobs_to_stop():
    pool = Pool(workers=1, queue=0, timeout=10)
    started = threading.Event()

    def loop_until_told(token: Token) -> None:
        started.set()
        while True:
            token.check()
            threading.Event().wait(0.01)

    task = asyncio.create_task(pool.run(loop_until_told))
    await asyncio.to_thread(started.wait, 5)
    pool.close()
    task.cancel()
    with pytest.raises((asyncio.CancelledError, Cancelled)):
        await task
    await asyncio.to_thread(pool._executor.shutdown, wait=True)  # returns: the job stopped
