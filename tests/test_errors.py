"""Errors that are answers: each class carries its status and its short reason."""

from __future__ import annotations

import inspect

import pytest

from proxy import errors
from proxy.errors import CacheUnavailable, ProxyError, RangeNotSatisfiable, ServiceUnavailable
from proxy.storage import errors as storage_errors

EXPECTED = {
    "ProxyError": (500, "internal error"),
    "BadRequest": (400, "bad request"),
    "Unauthorized": (401, "authentication required"),
    "Forbidden": (403, "forbidden"),
    "NotFound": (404, "not found"),
    "PayloadTooLarge": (413, "source file too large"),
    "UnsupportedMediaType": (415, "unsupported media type"),
    "RangeNotSatisfiable": (416, "range not satisfiable"),
    "Unprocessable": (422, "cannot process image"),
    "ServiceUnavailable": (503, "busy, retry later"),
    "CacheUnavailable": (503, "cache storage unavailable"),
    "GatewayTimeout": (504, "timed out"),
}


def error_classes(module: object) -> dict[str, type[ProxyError]]:
    return {
        name: cls
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ProxyError) and cls.__module__ == module.__name__  # type: ignore[attr-defined]
    }


def test_every_error_class_is_listed():
    assert set(error_classes(errors)) == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_each_error_carries_its_status_and_reason(name, expected):
    error = getattr(errors, name)()
    assert (error.status, error.reason) == expected
    assert str(error) == error.reason  # no detail: the log says the reason
    assert error.headers == {}
    assert isinstance(error, ProxyError)


def test_a_reason_and_a_detail_of_its_own():
    error = errors.NotFound("no such preset", detail="preset 'x' in /etc/secret.env")
    assert error.reason == "no such preset"
    assert str(error) == "preset 'x' in /etc/secret.env"
    only_detail = errors.BadRequest(detail="width -1 in /a/b")
    assert (only_detail.reason, str(only_detail)) == ("bad request", "width -1 in /a/b")


def test_headers_are_the_error_s_own_copy():
    given = {"Retry-After": "1"}
    error = ServiceUnavailable(headers=given)
    given["Retry-After"] = "99"
    assert error.headers == {"Retry-After": "1"}
    assert ServiceUnavailable().headers is not ServiceUnavailable().headers


@pytest.mark.parametrize(
    ("size", "headers"),
    [
        (1234, {"Content-Range": "bytes */1234"}),
        (0, {"Content-Range": "bytes */0"}),
        (None, {}),
        (-1, {}),
    ],
)
def test_a_range_not_satisfiable_says_the_size_it_knows(size, headers):
    error = RangeNotSatisfiable(size=size, detail="bytes=5000-")
    assert (error.status, error.headers, error.size) == (416, headers, size)
    assert str(error) == "bytes=5000-"


def test_a_cache_failure_is_a_503_not_a_500():
    error = CacheUnavailable(detail="database disk image is malformed")
    assert isinstance(error, ServiceUnavailable)
    assert (error.status, error.reason) == (503, "cache storage unavailable")


def test_storage_errors_are_answers_too():
    classes = error_classes(storage_errors)
    assert classes
    for cls in classes.values():
        error = cls("GET bucket/key: 500 from http://10.0.0.1:9000")
        assert 400 <= error.status < 600
        assert error.reason == cls.default_reason
        assert "10.0.0.1" not in error.reason
