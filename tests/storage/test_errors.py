"""The typed storage failures: status, reason, metric kind, retry, and what a client reads."""

from __future__ import annotations

import pytest

from proxy.errors import ProxyError
from proxy.storage.errors import (
    CLIENT_KINDS,
    AccessDenied,
    InvalidKey,
    ObjectMissing,
    StorageError,
    StorageTimeout,
    Unavailable,
)
from proxy.web.answers import answer_for


@pytest.mark.parametrize(
    ("cls", "status", "reason", "kind", "transient"),
    [
        (StorageError, 502, "storage error", "error", False),
        (ObjectMissing, 404, "not found", "not_found", False),
        (InvalidKey, 400, "invalid key", "invalid_key", False),
        (AccessDenied, 502, "storage refused the proxy's credentials", "access_denied", False),
        (Unavailable, 502, "storage unavailable", "unavailable", True),
        (StorageTimeout, 504, "storage timed out", "timeout", True),
    ],
)
def test_each_failure_has_its_status_reason_kind_and_retry(cls, status, reason, kind, transient):
    detail = "bucket-x/secret/key.jpg: the store said 'SignatureDoesNotMatch' at 10.0.0.7"
    error = cls(detail)
    assert isinstance(error, ProxyError)
    assert (error.status, error.reason, error.kind, error.transient) == (
        status,
        reason,
        kind,
        transient,
    )
    assert str(error) == detail  # for the log line
    answer = answer_for(error)
    assert (answer.status, answer.reason) == (status, reason)  # what the client reads
    assert "10.0.0.7" not in answer.response().text


def test_transient_can_be_said_per_failure_without_changing_the_class():
    assert Unavailable("400 from the store", transient=False).transient is False
    assert StorageError("a blip", transient=True).transient is True
    assert Unavailable("again").transient is True  # the class default is untouched


def test_client_kinds_are_the_requests_fault_not_the_stores():
    assert frozenset({ObjectMissing.kind, InvalidKey.kind, "range"}) == CLIENT_KINDS
    for cls in (AccessDenied, Unavailable, StorageTimeout, StorageError):
        assert cls.kind not in CLIENT_KINDS
