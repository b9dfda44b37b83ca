"""The label values proxy.metrics creates at start are the ones the code counts with."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from aiohttp import web
from prometheus_client import Counter, Histogram

from proxy import metrics
from proxy.access import AccessRule
from proxy.access import refusals as _refusals  # noqa: F401 - defines the refusal classes
from proxy.converter import refs
from proxy.errors import ProxyError
from proxy.storage.errors import StorageError
from proxy.web.admin_routes import AdminRoutes
from proxy.web.cors import CrossOrigin
from proxy.web.routes import Routes

ROOT = Path(__file__).resolve().parent.parent


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_storage_error_kinds_are_every_kind_there_is() -> None:
    kinds = {StorageError.kind} | {cls.kind for cls in _subclasses(StorageError)}
    # "range": a 416 from the store is counted under its own kind (proxy/storage/base.py).
    assert set(metrics.STORAGE_ERROR_KINDS) == kinds | {"range"}


def test_routes_are_every_route_name(make_settings) -> None:
    names: set[str] = set()

    class Recorder:
        def wrap(
            self, route: str, handler: object, guard: object = None, cors: object = None
        ) -> object:
            names.add(route)
            return handler

    services = SimpleNamespace(
        access=AccessRule(make_settings().access, (), 32), previews=None, info=None
    )
    router = web.UrlDispatcher()
    AdminRoutes(None, "0123456789abcdef").add_to(router, Recorder())  # type: ignore[arg-type]
    cors = CrossOrigin((), "cross-origin")
    Routes(services, None, None, cors).add_to(router, Recorder())  # type: ignore[arg-type]
    assert names == set(metrics.ROUTES)


def test_access_refusal_reasons_are_every_refusal_there_is() -> None:
    reasons = {cls.refusal for cls in _subclasses(ProxyError) if cls.refusal is not None}
    assert set(metrics.ACCESS_REFUSAL_REASONS) == reasons


def test_conversion_kinds_are_the_converters() -> None:
    assert set(metrics.CONVERSION_KINDS) == {refs.CONVERT, refs.VIDEOFRAME}


def test_eviction_reasons_are_every_reason_the_cache_gives() -> None:
    reasons = set()
    for path in (ROOT / "proxy" / "cache").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "after_removal"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                reasons.add(node.args[1].value)
    assert reasons, "where does proxy/cache count evictions now? update this test"
    assert reasons <= set(metrics.EVICTION_REASONS), reasons - set(metrics.EVICTION_REASONS)


def test_cache_error_kinds_are_every_kind_the_cache_counts() -> None:
    source = (ROOT / "proxy" / "cache" / "cache.py").read_text(encoding="utf-8")
    for kind in metrics.CACHE_ERROR_KINDS:
        assert f'"{kind}"' in source
    assert 'kind = "damaged" if is_damage(exc) else "unavailable"' in source


def test_after_initialise_every_counter_and_histogram_has_samples() -> None:
    metrics.initialise("http")
    for name, value in vars(metrics).items():
        if isinstance(value, Counter | Histogram):
            samples = [s for family in value.collect() for s in family.samples]
            assert samples, f"{name} has no series before its first event"
