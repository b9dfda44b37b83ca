"""Turning an SDK's exceptions into typed storage errors, and leaving the rest alone."""

from __future__ import annotations

import asyncio

import pytest

from proxy.errors import ProxyError
from proxy.storage.errors import ObjectMissing, StorageTimeout, Unavailable
from proxy.storage.translate import translated


class SdkMissing(Exception):
    pass


def map_error(exc: BaseException, what: str) -> ProxyError | None:
    if isinstance(exc, SdkMissing):
        return ObjectMissing(f"{what}: NoSuchKey")
    if isinstance(exc, ConnectionError):
        return Unavailable(f"{what}: {type(exc).__name__}")
    return None  # anything else is a bug of ours


def test_a_mapped_exception_becomes_the_typed_error_with_its_cause():
    original = SdkMissing("404")
    with pytest.raises(ObjectMissing) as raised, translated(map_error, "b/k"):
        raise original
    assert str(raised.value) == "b/k: NoSuchKey"
    assert raised.value.__cause__ is original


def test_an_unmapped_exception_is_raised_unchanged():
    bug = KeyError("a bug")
    with pytest.raises(KeyError) as raised, translated(map_error, "b/k"):
        raise bug
    assert raised.value is bug


def test_typed_errors_and_cancellation_pass_through_unmapped():
    seen: list[BaseException] = []

    def recording(exc: BaseException, what: str) -> ProxyError | None:
        seen.append(exc)
        return Unavailable("mapped")

    typed = StorageTimeout("already typed")
    with pytest.raises(StorageTimeout) as raised, translated(recording, "b/k"):
        raise typed
    assert raised.value is typed
    with pytest.raises(asyncio.CancelledError), translated(recording, "b/k"):
        raise asyncio.CancelledError
    assert seen == []


def test_nothing_raised_nothing_changed():
    with translated(map_error, "b/k"):
        value = 1
    assert value == 1


@pytest.mark.parametrize("module", ["s3", "azure"])
def test_the_remote_backends_map_a_dropped_connection_to_unavailable(module):
    import importlib

    backend = importlib.import_module(f"proxy.storage.{module}")
    with pytest.raises(Unavailable) as raised, translated(backend.map_error, "b/k"):
        raise ConnectionResetError("reset by peer")
    assert raised.value.transient and isinstance(raised.value.__cause__, ConnectionResetError)
