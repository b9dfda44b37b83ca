"""A fast path's internal is probed once; when it is missing, one warning, a gauge at 1, and
the fallbacks listed (for /health); probed again and found, all of it back off."""

from __future__ import annotations

import logging

import pytest

from proxy import internals, metrics
from proxy.internals import Internal


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> dict[str, Internal]:
    """An empty register of its own, so the fast paths' real ones are left as they are."""
    own: dict[str, Internal] = {}
    monkeypatch.setattr(internals, "REGISTER", own)
    return own


def gauge(name: str) -> float:
    return metrics.INTERNAL_FALLBACKS.labels(name)._value.get()  # type: ignore[no-any-return]


def test_a_missing_internal_is_one_warning_a_gauge_and_a_listed_fallback(register, caplog):
    missing = ["dependency.thing._private is missing"]
    probes = []

    def probe() -> str:
        probes.append(1)
        return missing[0]

    internal = Internal("test_path", probe, "the public path runs")
    assert internal.problem is None and register == {"test_path": internal}
    with caplog.at_level(logging.WARNING, logger="proxy.internals"):
        assert not internal.usable
        assert not internal.usable  # probed once
        internal.probe()  # the same problem again: no second line
    assert len(probes) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "fallback test_path: dependency.thing._private is missing; the public path runs instead"
    ]
    assert gauge("test_path") == 1
    assert internals.fallbacks() == {"test_path": "dependency.thing._private is missing"}
    missing[0] = ""
    assert internal.probe() == "" and internal.usable
    assert gauge("test_path") == 0 and internals.fallbacks() == {}


def test_a_probe_that_breaks_counts_as_missing(register):
    def probe() -> str:
        raise AttributeError("'X' object has no attribute '_y'")

    internal = Internal("breaks", probe, "the public path runs")
    assert not internal.usable
    assert internal.problem == "its probe failed: AttributeError: 'X' object has no attribute '_y'"


def test_probe_all_probes_those_not_probed_yet(register):
    calls: list[str] = []
    first = Internal("first", lambda: calls.append("first") or "", "-")
    Internal("second", lambda: calls.append("second") or "gone", "-")
    assert first.usable
    assert internals.probe_all() == {"second": "gone"}
    assert calls == ["first", "second"]


def test_every_fast_path_finds_its_internals_in_the_pinned_dependencies():
    from proxy.web import connections, fair_loop, ready, tally

    for module in (connections, fair_loop, ready, tally):
        assert module.FAST.probe() == "", module.__name__
    assert internals.fallbacks() == {}
