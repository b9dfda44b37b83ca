"""The settings model: one problem line per variable in SettingsError, frozen values."""

from __future__ import annotations

import dataclasses

import pytest

from proxy.settings import SettingsError, parse_settings


def test_a_settings_error_holds_one_line_per_problem():
    error = SettingsError(["A='1' is invalid", "B is required"])
    assert error.problems == ["A='1' is invalid", "B is required"]
    assert str(error) == "A='1' is invalid\nB is required"


def test_settings_are_frozen(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    for obj, field in (
        (s, "request_timeout"),
        (s.storage, "buckets"),
        (s.caches["storage"], "size"),
        (s.previews, "quality"),
    ):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, None)


def test_the_raw_values_are_kept_but_left_out_of_repr(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path), "SIGNATURE_TRUSTED": "trusted-sig-123"})
    assert s.raw["SIGNATURE_TRUSTED"] == "trusted-sig-123"
    assert "raw=" not in repr(s)
    assert "request_timeout=60.0" in repr(s)
    assert dataclasses.replace(s, request_timeout=5.0).raw == s.raw


def test_each_part_checks_its_own_values_together(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.problems() == []
    minio = dataclasses.replace(s.storage, provider="minio", buckets=(), iam_role="reader")
    assert minio.problems() == [
        "STORAGE_BUCKETS is required for a remote provider: comma-separated names"
    ]
    azure = dataclasses.replace(minio, provider="azure", endpoint="", buckets=("b",))
    assert azure.problems() == [
        "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net",
        "STORAGE_ACCESS_KEY is required for azure",
        "STORAGE_SECRET_KEY is required for azure",
    ]
    unpaired = dataclasses.replace(s.previews, signature_keys=(b"a", b"b"), signature_salts=(b"c",))
    assert unpaired.problems() == [
        "SIGNATURE_KEY and SIGNATURE_SALT must have the same number of comma-separated hex values"
    ]
    assert unpaired.signature_pairs == ((b"a", b"c"),)
    assert [c.problems() for c in s.caches.values()] == [[], [], []]
    assert s.access.problems() == []
    # The whole asks every part, in order.
    both = dataclasses.replace(s, storage=minio, previews=unpaired)
    assert both.problems() == minio.problems() + unpaired.problems()
