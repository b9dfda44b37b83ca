"""What /health says about the storage and how fresh that is; `check` asks the same questions
(tests/storage/test_checks.py, tests/test_check.py).

Time is a clock the test turns, so these tests say what happens at which age of a probe
without waiting for it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from proxy.cache.caches import Caches
from proxy.health import FAILED_PROBE_TTL, PROBE_TTL, Health
from proxy.settings import Settings
from proxy.storage import Storage, StorageError, create_storage
from tests.storage.conftest import Forwarder, Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def open_health(tmp_path: Path) -> AsyncIterator[Callable[..., Health]]:
    opened: list[tuple[Storage, Caches]] = []

    async def make(settings: Settings, clock: Callable[[], float]) -> Health:
        storage = create_storage(settings.storage)
        await storage.start()
        caches = Caches.open(settings)
        opened.append((storage, caches))
        return Health(storage, caches, {}, clock=clock)

    yield make  # type: ignore[misc]
    for storage, caches in opened:
        caches.close_offline()
        await storage.close()


def test_a_failure_is_retried_sooner_than_success_is_reused() -> None:
    assert 0 < FAILED_PROBE_TTL < PROBE_TTL


async def test_a_good_probe_is_reused_and_a_failed_one_retried_soon(
    open_health, make_settings, data_path
):
    clock = Clock()
    health = await open_health(make_settings(STORAGE_BUCKETS="abc-public,abc-private"), clock)
    assert (await health.store_report()).healthy

    shutil.rmtree(data_path / "storage" / "abc-private")
    clock.now += FAILED_PROBE_TTL
    assert (await health.store_report()).healthy  # a good probe answers for PROBE_TTL
    clock.now += PROBE_TTL
    report = await health.store_report()
    assert not report.healthy
    assert "bucket missing (bucket abc-private" in str(report.checks["storage"])

    (data_path / "storage" / "abc-private").mkdir()
    clock.now += FAILED_PROBE_TTL  # much sooner than PROBE_TTL
    assert (await health.store_report()).healthy


async def test_a_request_the_store_failed_makes_the_next_health_probe_again(
    remote_store: Store, open_health
):
    store = remote_store
    forwarder = await Forwarder(urlsplit(store.endpoint).port or 80).start()
    parts = urlsplit(store.endpoint)
    endpoint = f"{parts.scheme}://127.0.0.1:{forwarder.port}{parts.path}"
    settings = store.settings(STORAGE_ENDPOINT=endpoint, STORAGE_BUCKETS=store.bucket)
    # The clock never moves: only the failed request can make the probe's "ok" stale.
    health = await open_health(settings, lambda: 0.0)
    assert (await health.store_report()).healthy

    await forwarder.stop()
    with pytest.raises(StorageError):
        await health.storage.open(store.bucket, "images/any.jpg")
    report = await health.store_report()
    assert not report.healthy
    assert str(report.checks["storage"]).startswith(f"{store.provider}: endpoint unreachable")


async def test_no_buckets_at_all_is_not_able_to_serve(open_health, make_settings, data_path):
    shutil.rmtree(data_path / "storage")
    report = await (await open_health(make_settings(), Clock())).report()
    assert not report.healthy
    assert report.checks["storage"] == (
        f"http: no buckets: set STORAGE_BUCKETS, or add folders under {data_path / 'storage'}"
    )
