"""Exceptions to answers: our errors carry their status, a cache's disk failing is a 503."""

from __future__ import annotations

import errno
import logging
import sqlite3

import pytest
from aiohttp import web

from proxy.errors import CacheUnavailable, NotFound, RangeNotSatisfiable, ServiceUnavailable
from proxy.storage.errors import Unavailable
from proxy.web.answers import LOCAL_DISK_ERRORS, Answer, answer_for


def test_our_errors_keep_their_status_reason_and_headers():
    busy = answer_for(ServiceUnavailable("busy, retry later", headers={"Retry-After": "1"}))
    assert (busy.status, busy.reason, dict(busy.headers)) == (
        503,
        "busy, retry later",
        {"Retry-After": "1"},
    )
    assert busy.log_level == logging.WARNING and not busy.traceback
    missing = answer_for(NotFound(detail="bucket/key at /srv/data/storage/bucket/key"))
    assert (missing.status, missing.reason, missing.log_level) == (404, "not found", logging.INFO)
    assert answer_for(RangeNotSatisfiable(size=10)).headers == {"Content-Range": "bytes */10"}
    assert answer_for(Unavailable("10.1.2.3 refused")).reason == "storage unavailable"


def test_aiohttps_own_answers_keep_their_status_and_headers_but_not_their_type():
    answer = answer_for(web.HTTPMethodNotAllowed("POST", ["GET", "HEAD"]))
    assert (answer.status, answer.reason) == (405, "method not allowed")
    assert answer.headers["Allow"] == "GET,HEAD"
    assert not any(k.lower() == "content-type" for k in answer.headers)


@pytest.mark.parametrize("code", sorted(LOCAL_DISK_ERRORS), ids=errno.errorcode.get)
def test_a_failing_cache_disk_is_a_503_said_as_such(code):
    answer = answer_for(OSError(code, "the disk said no"))
    assert (answer.status, answer.reason) == (503, CacheUnavailable.default_reason)
    assert answer.log_level == logging.ERROR and not answer.traceback


def test_a_failing_index_is_a_503():
    answer = answer_for(sqlite3.OperationalError("database or disk is full"))
    assert (answer.status, answer.reason) == (503, "cache storage unavailable")


@pytest.mark.parametrize(
    "exc", [KeyError("x"), OSError(errno.ECONNREFUSED, "refused"), OSError("no errno")]
)
def test_anything_else_is_a_500_with_a_traceback_for_the_log_only(exc):
    answer = answer_for(exc)
    assert (answer.status, answer.reason, answer.traceback) == (500, "internal error", True)
    response = answer.response()
    assert response.text == "internal error\n" and "KeyError" not in response.text


def test_an_answer_is_a_short_plain_text_response():
    response = Answer(418, "short and stout", {"X-Why": "tea"}).response()
    assert response.status == 418 and response.text == "short and stout\n"
    assert response.content_type == "text/plain" and response.headers["X-Why"] == "tea"
