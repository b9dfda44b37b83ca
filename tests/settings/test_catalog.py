"""The catalog of settings: every one documented, its default valid, its bounds as declared."""

from __future__ import annotations

import pytest

from proxy.settings import CACHE_NAMES, PROVIDERS, SETTINGS, SettingsError, parse_settings
from proxy.settings.catalog import BY_NAME
from proxy.units import DURATION_FORM, SIZE_FORM, format_duration, parse_duration, parse_size

SIZE_BOUNDS = {
    "CACHE_STORAGE_SIZE": ("64k", "1024t"),
    "CACHE_PREVIEWS_SIZE": ("64k", "1024t"),
    "CACHE_IMAGE_CONVERTER_SIZE": ("64k", "1024t"),
    "CACHE_MAX_OBJECT_SIZE": ("1k", "1024t"),
    "CACHE_MEMORY_SIZE": ("0", "64g"),
    "CACHE_RANGE_FILL_SIZE": ("0", "1024t"),
    "CACHE_ABANDONED_FILL_LIMIT": ("0", "1024t"),
    "CACHE_SCRUB_RATE": ("0", "64g"),
    "PREVIEWS_MEMORY_LIMIT": ("64m", "1t"),
    "PREVIEWS_MAX_SRC_FILE_SIZE": ("1k", "64g"),
    "PREVIEWS_MAX_SVG_FILE_SIZE": ("1k", "1g"),
}
DURATION_BOUNDS = {
    "STORAGE_TIMEOUT": ("100ms", "1h"),
    "CACHE_STORAGE_EXPIRES": ("1s", "10y"),
    "CACHE_PREVIEWS_EXPIRES": ("1s", "10y"),
    "CACHE_IMAGE_CONVERTER_EXPIRES": ("1s", "10y"),
    "CACHE_STALE_GRACE": ("0s", "10y"),
    "SHUTDOWN_TIMEOUT": ("0s", "1h"),
    "REQUEST_TIMEOUT": ("100ms", "1h"),
    "HTTP_HEADER_TIMEOUT": ("1s", "10m"),
    "HTTP_IDLE_TIMEOUT": ("1s", "1h"),
    "HTTP_SEND_TIMEOUT": ("1s", "1h"),
    "CONVERTER_TIMEOUT": ("100ms", "1h"),
    "AUTH_REQUEST_CACHE": ("0s", "1h"),
    "AUTH_REQUEST_TIMEOUT": ("100ms", "1m"),
}


def problems_of(env: dict[str, str], tmp_path) -> list[str]:
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), **env})
    return err.value.problems


def test_every_setting_is_documented():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.form and setting.help
    assert {s.name: s for s in SETTINGS} == BY_NAME


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_default_is_a_value_of_its_own_kind(setting):
    setting.kind.parse(setting.default)


def test_the_size_and_duration_settings_are_the_ones_with_declared_bounds():
    sizes = {s.name for s in SETTINGS if s.form.startswith(SIZE_FORM)}
    durations = {s.name for s in SETTINGS if s.form.startswith(DURATION_FORM)}
    assert sizes == set(SIZE_BOUNDS)
    assert durations == set(DURATION_BOUNDS)
    for name, (low, high) in {**SIZE_BOUNDS, **DURATION_BOUNDS}.items():
        assert BY_NAME[name].form.endswith(f", from {low} to {high}"), name


@pytest.mark.parametrize(("name", "bounds"), SIZE_BOUNDS.items(), ids=list(SIZE_BOUNDS))
def test_size_bounds_hold_at_the_edges(name, bounds, tmp_path):
    low, high = (parse_size(b) for b in bounds)
    env = {"DATA_PATH": str(tmp_path), "CACHE_MAX_OBJECT_SIZE": "1k"}
    for edge in (low, high):
        parse_settings({**env, name: str(edge)})
    outside = [str(high + 1)] + ([str(low - 1)] if low > 0 else ["-1"])
    for raw in outside:
        (line,) = problems_of({name: raw}, tmp_path)
        assert line.startswith(f"{name}={raw!r} is invalid: expected {SIZE_FORM}, from ")


@pytest.mark.parametrize(("name", "bounds"), DURATION_BOUNDS.items(), ids=list(DURATION_BOUNDS))
def test_duration_bounds_hold_at_the_edges(name, bounds, tmp_path):
    low, high = bounds
    for edge in (low, high):
        parse_settings({"DATA_PATH": str(tmp_path), name: edge})
    below = f"{round(parse_duration(low) * 1000) - 1}ms" if parse_duration(low) else "-1s"
    for raw in (f"{high}1ms", below):
        (line,) = problems_of({name: raw}, tmp_path)
        assert line.startswith(f"{name}={raw!r} is invalid: expected {DURATION_FORM}, from ")
        if raw != "-1s":
            shown = f"from {format_duration(parse_duration(low))} to {format_duration(parse_duration(high))}"
            assert f"is out of range: {shown})" in line


@pytest.mark.parametrize("name", ["", "node-1", "a.b_c", "9", "a" * 63], ids=lambda n: repr(n[:8]))
def test_node_names_safe_in_a_header(name):
    assert BY_NAME["NODE_NAME"].kind.parse(name) == name


@pytest.mark.parametrize("name", ["-node", ".node", "a" * 64, "node 1", "nöde", "a:b", "a\r\nb"])
def test_node_names_not_safe_in_a_header(name, tmp_path):
    with pytest.raises(ValueError):
        BY_NAME["NODE_NAME"].kind.parse(name)
    (line,) = problems_of({"NODE_NAME": name}, tmp_path)
    assert line.startswith("NODE_NAME=") and "up to 63 letters" in line


def test_each_cache_has_its_size_and_expiry():
    for name in CACHE_NAMES:
        assert f"CACHE_{name.upper()}_SIZE" in BY_NAME
        assert f"CACHE_{name.upper()}_EXPIRES" in BY_NAME


def test_the_provider_choice_is_the_providers():
    assert BY_NAME["STORAGE_PROVIDER"].form == "http, minio or azure"
    assert PROVIDERS == ("http", "minio", "azure")
    for provider in PROVIDERS:
        assert BY_NAME["STORAGE_PROVIDER"].kind.parse(provider) == provider


def test_the_secrets_are_marked_secret():
    secret = {s.name for s in SETTINGS if s.secret}
    assert secret == {
        "STORAGE_SECRET_KEY",
        "SIGNATURE_KEY",
        "SIGNATURE_SALT",
        "SIGNATURE_TRUSTED",
        "AUTH_BEARER_TOKEN",
        "ADMIN_TOKEN",
    }


def test_the_s3_default_endpoint_is_said_in_the_help():
    help_text = BY_NAME["STORAGE_ENDPOINT"].help
    assert "https://s3.<STORAGE_REGION>.amazonaws.com" in help_text
    assert BY_NAME["STORAGE_ENDPOINT"].default == ""
    assert BY_NAME["STORAGE_REGION"].default == "us-east-1"


def test_revalidation_takes_a_duration_or_off(tmp_path):
    parse = BY_NAME["CACHE_STORAGE_REVALIDATE"].kind.parse
    assert (parse("off"), parse("OFF"), parse("10m"), parse("1s")) == (0.0, 0.0, 600.0, 1.0)
    (line,) = problems_of({"CACHE_STORAGE_REVALIDATE": "500ms"}, tmp_path)
    assert line.startswith("CACHE_STORAGE_REVALIDATE='500ms' is invalid: expected off, or ")
    assert parse_settings({"DATA_PATH": str(tmp_path)}).revalidate == 600.0
