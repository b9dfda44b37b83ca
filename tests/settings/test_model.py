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
