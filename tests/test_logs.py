"""Logging setup: one formatted line per event on stderr, at the level asked, without aiohttp's
own access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from proxy.logs import setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    access = logging.getLogger("aiohttp.access")
    saved = (root.handlers[:], root.level, access.disabled)
    yield
    root.handlers[:], level, access.disabled = saved
    root.setLevel(level)


def test_one_line_per_event_on_stderr(restore_logging, capsys):
    setup_logging("warning")
    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert root.level == logging.WARNING
    logging.getLogger("proxy.test").info("not shown")
    logging.getLogger("proxy.test").warning("shown %d", 7)
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.endswith(" WARNING proxy.test: shown 7")
    assert line[:4].isdigit()  # it starts with the time


def test_setting_up_again_replaces_the_handler(restore_logging, capsys):
    setup_logging("debug")
    setup_logging("info")
    assert len(logging.getLogger().handlers) == 1
    assert logging.getLogger().level == logging.INFO
    logging.getLogger("proxy.test").info("once")
    assert capsys.readouterr().err.count("once") == 1


def test_aiohttp_s_access_log_is_off(restore_logging, capsys):
    setup_logging("debug")
    logging.getLogger("aiohttp.access").info("GET / 200")
    logging.getLogger("aiohttp.server").info("kept")
    err = capsys.readouterr().err
    assert "GET / 200" not in err
    assert "aiohttp.server: kept" in err


def test_an_unknown_level_is_refused(restore_logging):
    with pytest.raises(ValueError):
        setup_logging("loud")
