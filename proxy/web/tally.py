"""Metrics for every request, counted in plain numbers and added to Prometheus in batches.

Per request, prometheus_client takes a lock for every increment (a file write under
PROMETHEUS_MULTIPROC_DIR), a histogram searches its buckets in Python, and a `labels()`
lookup builds a key: together more than a cache hit's own work. A tally counts into a list
instead and adds the sums to the metrics at most every FLUSH_AFTER seconds (and when asked
to, before the metrics are read), so what a scrape sees is at most that much behind.

A histogram has no public way to add many observations at once; `Batch` adds them to its
buckets and sum the way `Histogram.observe` does one (tests/web/test_tally.py holds it to that,
against the pinned prometheus_client). `FAST` probes that once (proxy/internals.py): when the
histogram's insides are missing or add up otherwise, a batch calls `observe()` per request.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from proxy.internals import Internal
from proxy.metrics import HTTP_DURATION, ROUTES, publish_later_counts

FLUSH_AFTER = 0.25


def _bounds(child: Histogram) -> list[float]:
    """The upper bounds of a histogram's buckets, ending with +Inf."""
    return list(child._upper_bounds)


def _add(child: Histogram, counts: list[int], total: float) -> None:
    """Add counts per bucket and their sum, as that many `observe()` calls would."""
    inside: Any = child
    inside._sum.inc(total)
    for i, count in enumerate(counts):
        if count:
            inside._buckets[i].inc(count)


def _probe() -> str:
    # Read-only, on a series the proxy exports anyway: a throwaway histogram would be written
    # to PROMETHEUS_MULTIPROC_DIR's files and show up in every scrape.
    child = HTTP_DURATION.labels(ROUTES[0])
    inside: Any = child
    try:
        bounds = _bounds(child)
        counts = [bucket.get() for bucket in inside._buckets]
        total = inside._sum.get()
        if not all(callable(value.inc) for value in (inside._sum, *inside._buckets)):
            return "prometheus_client's Histogram values cannot be added to"
    except AttributeError as exc:
        return f"prometheus_client's Histogram has no {exc.name}"
    # What collect() reports must be those very counts, cumulated, and that sum.
    samples = [s for family in child.collect() for s in family.samples]
    buckets = [s.value for s in samples if s.name.endswith("_bucket")]
    sums = [s.value for s in samples if s.name.endswith("_sum")]
    cumulated = [sum(counts[: i + 1]) for i in range(len(counts))]
    if bounds[-1] != float("inf") or buckets != cumulated or sums != [total]:
        return "prometheus_client's Histogram holds its buckets otherwise"
    return ""


FAST = Internal("tally_batch", _probe, "request durations are added with one observe() each")


class Batch:
    """Observations of one labelled histogram, waiting to be added."""

    __slots__ = ("_bounds", "_child", "counts", "total")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        # Empty when the histogram's insides are not to be used: then each value is observed.
        self._bounds = _bounds(child) if FAST.usable else []
        self.counts = [0] * len(self._bounds)
        self.total = 0.0

    def add(self, seconds: float) -> None:
        if not self._bounds:
            self._child.observe(seconds)
            return
        # Histogram.observe counts a value in the first bucket whose bound is >= it.
        self.counts[bisect_left(self._bounds, seconds)] += 1
        self.total += seconds

    def publish(self) -> None:
        if not any(self.counts):
            return
        _add(self._child, self.counts, self.total)
        self.counts = [0] * len(self._bounds)
        self.total = 0.0


class RequestTally:
    """Requests by route and status, their durations by route, and those in flight."""

    def __init__(self, requests: Counter, durations: Histogram, in_flight: Gauge) -> None:
        self._requests = requests
        self._durations = durations
        self._in_flight_gauge = in_flight
        self.in_flight = 0
        self._counts: dict[tuple[str, int], int] = {}
        self._batches: dict[str, Batch] = {}
        self._published_in_flight = 0
        self._timer: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        self.in_flight += 1
        self._soon()

    def end(self, route: str, status: int, seconds: float) -> None:
        self.in_flight -= 1
        key = (route, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        batch = self._batches.get(route)
        if batch is None:
            batch = self._batches[route] = Batch(self._durations.labels(route))
        batch.add(seconds)
        self._soon()

    def _soon(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_AFTER, self.publish)

    def publish(self) -> None:
        """Add everything counted so far to the metrics."""
        self._timer = None
        counts, self._counts = self._counts, {}
        for (route, status), n in counts.items():
            self._requests.labels(route, str(status)).inc(n)
        for batch in self._batches.values():
            batch.publish()
        publish_later_counts()
        if self.in_flight != self._published_in_flight:
            self._in_flight_gauge.set(self.in_flight)
            self._published_in_flight = self.in_flight
        if self.in_flight:
            self._soon()  # the gauge must come back to zero once the last one ends
