"""Request metrics added in batches come out exactly as one observation at a time would."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from proxy.metrics import HTTP_DURATION, ROUTES, LaterCount
from proxy.web import tally as tally_module
from proxy.web.tally import Batch, RequestTally
from tests.fallbacks import without

BUCKETS = (0.001, 0.01, 0.1, 1.0)
# Values on, between, below and past the bounds: where an off-by-one in the bucket search shows.
VALUES = [0.0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.99, 1.0, 1.5, 30.0]


def exposition(registry: CollectorRegistry) -> str:
    return generate_latest(registry).decode()


def test_a_batch_counts_every_value_in_the_bucket_observe_would():
    one, batched = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("d", "d", ["route"], buckets=BUCKETS, registry=one)
    via_batch = Histogram("d", "d", ["route"], buckets=BUCKETS, registry=batched)
    batch = Batch(via_batch.labels("preview"))
    for value in VALUES:
        direct.labels("preview").observe(value)
        batch.add(value)
    assert exposition(batched) != exposition(one)  # nothing is published before publish()
    batch.publish()
    assert exposition(batched) == exposition(one)
    batch.publish()  # publishing again adds nothing
    assert exposition(batched) == exposition(one)


@pytest.mark.parametrize("name", ["_upper_bounds", "_sum", "_buckets"])
def test_without_a_histograms_insides_each_value_is_observed_with_the_same_result(name):
    one, batched = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("d", "d", ["route"], buckets=BUCKETS, registry=one)
    via_batch = Histogram("d", "d", ["route"], buckets=BUCKETS, registry=batched)
    probed = HTTP_DURATION.labels(ROUTES[0])  # what the probe reads
    with without(tally_module.FAST, (probed, name)) as problem:
        assert problem == f"prometheus_client's Histogram has no {name}"
        batch = Batch(via_batch.labels("preview"))
        for value in VALUES:
            direct.labels("preview").observe(value)
            batch.add(value)
        assert exposition(batched) == exposition(one)  # observed as they came
        batch.publish()
        assert exposition(batched) == exposition(one)
    assert Batch(via_batch.labels("preview")).counts  # batched again once the probe passes


def metrics(registry: CollectorRegistry) -> tuple[Counter, Histogram, Gauge]:
    return (
        Counter("r", "r", ["route", "status"], registry=registry),
        Histogram("t", "t", ["route"], buckets=BUCKETS, registry=registry),
        Gauge("f", "f", registry=registry),
    )


async def test_requests_are_published_soon_after_they_end(monkeypatch):
    monkeypatch.setattr(tally_module, "FLUSH_AFTER", 0.0)
    registry = CollectorRegistry()
    requests, durations, in_flight = metrics(registry)
    tally = RequestTally(requests, durations, in_flight)
    tally.begin()
    tally.begin()
    tally.end("preview", 200, 0.002)
    published = asyncio.Event()
    # Due after the tally's timer (due now), so the loop runs that one first.
    asyncio.get_running_loop().call_later(0.01, published.set)
    await published.wait()
    assert registry.get_sample_value("r_total", {"route": "preview", "status": "200"}) == 1
    assert registry.get_sample_value("f") == 1  # one is still being answered
    tally.end("original", 404, 0.5)
    tally.publish()
    assert registry.get_sample_value("r_total", {"route": "original", "status": "404"}) == 1
    assert registry.get_sample_value("t_count", {"route": "preview"}) == 1
    assert registry.get_sample_value("t_bucket", {"route": "original", "le": "1.0"}) == 1
    assert registry.get_sample_value("f") == 0


async def test_later_counts_are_published_with_the_requests(monkeypatch):
    monkeypatch.setattr(tally_module, "FLUSH_AFTER", 0.0)
    registry = CollectorRegistry()
    requests, durations, in_flight = metrics(registry)
    hits = Counter("h", "h", registry=registry)
    later = LaterCount(hits)
    tally = RequestTally(requests, durations, in_flight)
    tally.begin()
    later.inc()
    later.inc()
    assert registry.get_sample_value("h_total") == 0  # counted, not yet added
    tally.end("preview", 200, 0.002)
    published = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, published.set)
    await published.wait()
    assert registry.get_sample_value("h_total") == 2 and later.pending == 0
