"""EVENT_LOOP: the fair asyncio loop by default, uvloop when asked (or `auto` and installed),
and a whole server on uvloop answering as on asyncio."""

from __future__ import annotations

import asyncio
import importlib.util
import urllib.request

import pytest
import uvloop

from proxy.settings import SettingsError
from proxy.web.fair_loop import FairSelector
from proxy.web.loops import chosen_loop
from tests.conftest import encode_image
from tests.server_process import ServerProcess


def _made(setting: str) -> tuple[str, asyncio.AbstractEventLoop]:
    name, factory = chosen_loop(setting)
    return name, factory()


def test_asyncio_is_the_fair_loop() -> None:
    name, loop = _made("asyncio")
    try:
        assert name == "asyncio"
        assert isinstance(loop._selector, FairSelector)  # type: ignore[attr-defined]
    finally:
        loop.close()


@pytest.mark.parametrize("setting", ["uvloop", "auto"])
def test_uvloop_when_asked_or_installed(setting: str) -> None:
    name, loop = _made(setting)
    try:
        assert (name, type(loop)) == ("uvloop", uvloop.Loop)
    finally:
        loop.close()


def test_auto_without_uvloop_is_asyncio(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "uvloop" else real(n, *a)
    )
    assert chosen_loop("auto")[0] == "asyncio"


def test_uvloop_asked_but_not_installed_stops_the_start(monkeypatch, make_settings) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "uvloop" else real(n, *a)
    )
    with pytest.raises(SettingsError) as caught:
        make_settings(EVENT_LOOP="uvloop")
    assert caught.value.problems == [
        "EVENT_LOOP=uvloop, but uvloop is not installed (pip install uvloop)"
    ]
    make_settings(EVENT_LOOP="auto")  # auto falls back without a word


def test_a_server_on_uvloop_serves_and_stops_cleanly(data_path, tmp_path) -> None:
    body = encode_image(120, 90)
    (data_path / "storage" / "abc-public" / "a.jpg").write_bytes(body)
    env = {"DATA_PATH": str(data_path), "EVENT_LOOP": "uvloop"}
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        with urllib.request.urlopen(server.base + "/abc-public/a.jpg", timeout=10) as r:
            assert r.read() == body
        preview = server.base + "/previews/q/rs:fit:60:0/plain/abc-public/a.jpg"
        with urllib.request.urlopen(preview, timeout=30) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/jpeg"
        with urllib.request.urlopen(server.base + "/health", timeout=10) as r:
            assert r.status == 200
        output = server.stop()
        assert server.proc.returncode == 0
    assert output.count("event loop: uvloop") == 2  # each worker says which loop it runs
