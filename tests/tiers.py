"""The test tiers: markers given by what a test uses, in one place, so new tests get theirs.

- `browser`: tests under tests/browser/ (headless Chromium).
- `cluster`: tests under tests/cluster/ (HAProxy in front of proxy nodes).
- `servers`: tests that start real servers: `python -m proxy serve` (ServerProcess), moto's S3
  server, Azurite, Prometheus; found from the fixtures a test asks for, the provider it is
  run with, and the names its code (and the module's helpers and fixtures it calls) uses.
- `slow`: tests of the modules in SLOW, which take seconds each for reasons of their own.

`./scripts/test.sh --fast` leaves all four out; `./scripts/test.sh` runs everything.
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
TIERS = ("slow", "cluster", "browser", "servers")
FAST = " and ".join(f"not {tier}" for tier in TIERS)

DIRECTORIES = {"browser": "browser", "cluster": "cluster"}
# Fixtures that start a server (tests/storage/conftest.py), and providers whose store is one.
SERVER_FIXTURES = frozenset({"moto_server", "moto_auth_server", "azurite_server"})
SERVER_PROVIDERS = frozenset({"minio", "azure"})
# Names whose use in a test's code starts a server process.
SERVER_NAMES = frozenset({"ServerProcess", "start_moto", "start_azurite", "start_prometheus"})
# Modules whose tests are slow for reasons of their own (many generated examples, big images,
# the container's build checks, a hundred renders over HTTP each where the fast tier has the
# same steps in process in previews/imgproxy/test_processing.py), relative to tests/.
SLOW = frozenset(
    {
        "test_container.py",
        "web/test_routes_fuzz.py",
        "previews/test_fuzz.py",
        "previews/imgproxy/test_matrix.py",
        "previews/imgproxy/test_handler.py",
        "previews/imgproxy/test_watermark.py",
        "previews/test_resizing.py",
        "previews/test_hostile.py",
        "cache/test_shared.py",
    }
)


def tiers_of(item: pytest.Item) -> set[str]:
    path = Path(str(item.path)).resolve()
    relative = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
    tiers = {tier for tier, folder in DIRECTORIES.items() if relative.startswith(folder + "/")}
    if relative in SLOW:
        tiers.add("slow")
    if _starts_servers(item):
        tiers.add("servers")
    return tiers


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for tier in sorted(tiers_of(item)):
            item.add_marker(tier)


def _starts_servers(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if names & SERVER_FIXTURES:
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is not None and SERVER_PROVIDERS & {
        v for v in callspec.params.values() if isinstance(v, str)
    }:
        return True
    function = getattr(item, "function", None)
    module = getattr(item, "module", None)
    if function is None or module is None:
        return False
    seen: set[int] = set()
    roots = [function, *(getattr(module, name) for name in names if hasattr(module, name))]
    return any(_uses(root, vars(module), seen) for root in roots)


def _uses(obj: Any, module: dict[str, Any], seen: set[int]) -> bool:
    """Whether `obj`'s code, or a module-level function or fixture it names, names a server."""
    code = getattr(inspect.unwrap(obj), "__code__", None)
    if code is None or id(code) in seen:
        return False
    seen.add(id(code))
    return _code_uses(code, module, seen)


def _code_uses(code: types.CodeType, module: dict[str, Any], seen: set[int]) -> bool:
    if SERVER_NAMES & set(code.co_names):
        return True
    for const in code.co_consts:  # nested functions, lambdas, comprehensions
        if isinstance(const, types.CodeType) and _code_uses(const, module, seen):
            return True
    return any(
        callable(module.get(name)) and _uses(module[name], module, seen) for name in code.co_names
    )
