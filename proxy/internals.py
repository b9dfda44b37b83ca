"""Private internals of dependencies that fast paths reach into, each probed once before use.

A few hot paths reach past a dependency's public API (aiohttp's response and server,
prometheus_client's histogram, the selector's epoll object), pinned to versions known to
work. An upgrade or a security patch may rename or drop what they use, and some of them run
on every request (a tally in the middleware's `finally`): a missing attribute there would fail
every request. So each fast path declares an `Internal` with a probe that checks what it
reaches into exists and behaves; the first use probes it, and when it is missing the fast path
takes its dependency's public path instead. That is a warning, not a failure: one log line
naming what is missing and what runs instead, the gauge `proxy_internal_fallbacks{internal}`
at 1, and a `fallbacks` field in `/health`; the answers are the same bytes.

This module holds only the register and the bookkeeping; each probe lives beside the fast
path it guards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from proxy import metrics

log = logging.getLogger("proxy.internals")

Probe = Callable[[], str]  # "" when the internal exists and behaves, else what is missing


class Internal:
    """One fast path's use of a dependency's internals, and whether it may take it."""

    def __init__(self, name: str, probe: Probe, fallback: str) -> None:
        self.name = name
        self.fallback = fallback  # what runs instead, for the warning
        self._probe = probe
        self._problem: str | None = None  # None: not probed yet
        REGISTER[name] = self

    @property
    def usable(self) -> bool:
        """Whether the fast path may reach in; the first call probes."""
        problem = self._problem
        if problem is None:
            problem = self.probe()
        return not problem

    @property
    def problem(self) -> str | None:
        """What the last probe found missing ("" when nothing), None before any probe."""
        return self._problem

    def probe(self) -> str:
        """Check again (at start, or in tests after changing a dependency)."""
        try:
            problem = self._probe()
        except Exception as exc:  # a probe that breaks is a missing internal too
            problem = f"its probe failed: {type(exc).__name__}: {exc}"
        if problem and problem != self._problem:
            log.warning("fallback %s: %s; %s instead", self.name, problem, self.fallback)
        self._problem = problem
        metrics.INTERNAL_FALLBACKS.labels(self.name).set(1 if problem else 0)
        return problem


REGISTER: dict[str, Internal] = {}


def probe_all() -> dict[str, str]:
    """Probe every registered internal not probed yet; the fallbacks on, by name."""
    for internal in REGISTER.values():
        if internal.problem is None:
            internal.probe()
    return fallbacks()


def fallbacks() -> dict[str, str]:
    """The fast paths running on their public path, with what each found missing."""
    return {name: i.problem for name, i in REGISTER.items() if i.problem}
