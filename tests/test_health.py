"""What /health reports: storage, caches and named checks, and when a store is asked again."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from proxy import metrics
from proxy.cache.caches import Caches
from proxy.health import Health, Report, bucket_problems, store_failures
from proxy.settings import Settings
from proxy.storage import Storage, create_storage


@pytest.fixture
async def open_health() -> AsyncIterator[Callable[..., Health]]:
    opened: list[tuple[Storage, Caches]] = []

    async def make(settings: Settings, checks=None, clock=lambda: 0.0) -> Health:  # type: ignore[no-untyped-def]
        storage = create_storage(settings.storage)
        await storage.start()
        caches = Caches.open(settings)
        opened.append((storage, caches))
        return Health(storage, caches, checks or {}, clock=clock, node="edge-1")

    yield make  # type: ignore[misc]
    for storage, caches in opened:
        caches.close_offline()
        await storage.close()


def test_the_json_says_ok_or_unavailable_first():
    assert Report(True, {"storage": "ok"}).as_json() == {"status": "ok", "storage": "ok"}
    report = Report(False, {"node": "n", "storage": "down"})
    assert list(report.as_json().items()) == [
        ("status", "unavailable"),
        ("node", "n"),
        ("storage", "down"),
    ]


def test_no_buckets_is_a_problem(make_settings, data_path):
    assert bucket_problems(make_settings().storage) == []
    shutil.rmtree(data_path / "storage")
    assert bucket_problems(make_settings().storage) == [
        f"http: no buckets: set STORAGE_BUCKETS, or add folders under {data_path / 'storage'}"
    ]


def test_only_failures_of_the_store_itself_count():
    before = {p: store_failures(p) for p in ("http", "azure")}
    metrics.STORAGE_ERRORS.labels("http", "unavailable").inc()
    metrics.STORAGE_ERRORS.labels("http", "timeout").inc(2)
    for client_kind in ("not_found", "invalid_key", "range"):
        metrics.STORAGE_ERRORS.labels("http", client_kind).inc()
    assert store_failures("http") == before["http"] + 3
    assert store_failures("azure") == before["azure"]


async def test_a_healthy_report(open_health, make_settings):
    settings = make_settings()
    health = await open_health(settings, {"render": lambda: ""})
    report = await health.report()
    assert report.healthy
    assert report.as_json() == {
        "status": "ok",
        "node": "edge-1",
        "buckets": "ok",
        "storage": "ok",
        "caches": {"storage": "ok", "previews": "ok", "image_converter": "ok"},
        "render": "ok",
    }


async def test_a_failing_named_check_makes_it_unhealthy(open_health, make_settings):
    health = await open_health(make_settings(), {"render": lambda: "all 4 render processes died"})
    report = await health.report()
    assert not report.healthy
    assert report.checks["render"] == "all 4 render processes died"
    assert report.checks["storage"] == "ok"


async def test_a_cache_it_cannot_write_makes_it_unhealthy(open_health, make_settings):
    settings = make_settings()
    health = await open_health(settings)
    cache = health.caches.previews
    shutil.rmtree(cache.data_dir)
    report = await health.report()
    assert not report.healthy
    assert report.checks["caches"] == {
        "storage": "ok",
        "previews": f"{settings.caches['previews'].path} is not writable",
        "image_converter": "ok",
    }


async def test_several_storage_problems_are_one_line(open_health, make_settings, data_path):
    settings = make_settings(STORAGE_BUCKETS="abc-public,gone-one,gone-two")
    health = await open_health(settings)  # its start made the configured folders
    for gone in ("gone-one", "gone-two"):
        shutil.rmtree(data_path / "storage" / gone)
    problems = await health.storage_problems()
    assert len(problems) == 2
    report = await health.report()
    assert report.checks["storage"] == "; ".join(problems)
    assert "gone-one" in problems[0] and "gone-two" in problems[1]


async def test_a_store_failure_makes_a_good_probe_stale_a_client_error_does_not(
    open_health, make_settings, data_path: Path
):
    health = await open_health(make_settings())  # the clock never moves
    assert (await health.report()).healthy
    shutil.rmtree(data_path / "storage" / "abc-private")
    assert (await health.report()).healthy  # the good probe still answers

    metrics.STORAGE_ERRORS.labels("http", "not_found").inc()
    assert (await health.report()).healthy  # a client's missing key says nothing of the store

    metrics.STORAGE_ERRORS.labels("http", "unavailable").inc()
    report = await health.report()
    assert report.healthy  # a store that fails hides no cached copy: the node stays in
    assert "abc-private" in str(report.checks["storage"])
    assert not (await health.store_report()).healthy


async def test_a_fallback_on_is_reported_but_keeps_it_healthy(open_health, make_settings):
    from aiohttp import http_writer

    from proxy.web import ready
    from tests.fallbacks import without

    health = await open_health(make_settings())
    with without(ready.FAST, (http_writer, "_serialize_headers")):
        report = await health.report()
        assert report.healthy
        assert report.as_json()["fallbacks"] == {
            "ready_answer": "aiohttp.http_writer._serialize_headers is missing"
        }
    assert "fallbacks" not in (await health.report()).as_json()
