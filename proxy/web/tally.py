"""Metrics for every request, counted in plain numbers and added to Prometheus in batches.

Per request, prometheus_client takes a lock for every increment (a file write under
PROMETHEUS_MULTIPROC_DIR), a histogram searches its buckets in Python, and a `labels()`
lookup builds a key: together more than a cache hit's own work. A tally counts into a list
instead and adds the sums to the metrics at most every FLUSH_AFTER seconds (and when asked
to, before the metrics are read), so what a scrape sees is at most that much behind.

A histogram has no public way to add many observations at once; `Batch` adds them to its
buckets and sum the way `Histogram.observe` does one (tests/web/test_tally.py holds it to that,
against the pinned prometheus_client).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from proxy.metrics import publish_later_counts

FLUSH_AFTER = 0.25


class Batch:
    """Observations of one labelled histogram, waiting to be added."""

    __slots__ = ("_bounds", "_child", "counts", "total")

    def __init__(self, child: Histogram) -> None:
        self._child = child
        self._bounds: list[float] = child._upper_bounds  # ends with +Inf
        self.counts = [0] * len(self._bounds)
        self.total = 0.0

    def add(self, seconds: float) -> None:
        # Histogram.observe counts a value in the first bucket whose bound is >= it.
        self.counts[bisect_left(self._bounds, seconds)] += 1
        self.total += seconds

    def publish(self) -> None:
        if not any(self.counts):
            return
        child: Any = self._child
        child._sum.inc(self.total)
        for i, count in enumerate(self.counts):
            if count:
                child._buckets[i].inc(count)
                self.counts[i] = 0
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
