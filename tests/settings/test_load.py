"""Reading settings from the environment and an env file: defaults, precedence, every value used,
and one problem line per bad variable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.settings import (
    SETTINGS,
    Settings,
    SettingsError,
    available_cores,
    load_settings,
    parse_settings,
    read_env_file,
)
from proxy.settings.catalog import NODE_NAME_RE
from proxy.settings.load import host_name

MINIO = {"STORAGE_PROVIDER": "minio", "STORAGE_BUCKETS": "abc-public"}
KEYS = {"STORAGE_ACCESS_KEY": "AKIAEXAMPLE", "STORAGE_SECRET_KEY": "secret"}


def problems_of(env: dict[str, str], tmp_path: Path) -> list[str]:
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), **env})
    return err.value.problems


def test_defaults_match_the_design(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.storage.provider == "http"
    assert s.caches["storage"].size == 10 << 30
    assert s.caches["storage"].expires == 7 * 86400
    assert s.caches["previews"].size == 1 << 30
    assert s.caches["previews"].expires == 12 * 3600
    assert s.caches["image_converter"].size == 10 << 30
    assert s.caches["image_converter"].expires == 7 * 86400
    assert s.caches["storage"].path == tmp_path / "proxy_cache" / "storage"
    assert s.caches["image_converter"].path == tmp_path / "proxy_cache" / "image_converter"


def test_the_other_defaults(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert (s.storage.endpoint, s.storage.port, s.storage.endpoint_is_default) == ("", None, False)
    assert (s.storage.region, s.storage.timeout, s.storage.retries) == ("us-east-1", 30.0, 3)
    assert s.caches["storage"].max_object_size == 256 << 20
    assert (s.memory_cache_size, s.range_fill_size, s.abandoned_fill_limit) == (
        64 << 20,
        4 << 20,
        64 << 20,
    )
    assert (s.scrub_rate, s.stale_grace, s.cache_control) == (8 << 20, 86400.0, "max-age=86400")
    assert (s.shutdown_timeout, s.request_timeout) == (30.0, 60.0)
    assert (s.header_timeout, s.idle_timeout, s.max_connections) == (10.0, 15.0, 2048)
    assert (s.log_level, s.access_log, s.env_file) == ("info", True, None)
    p = s.previews
    assert p.concurrency == available_cores()
    assert p.queue == 64 * p.concurrency
    assert (p.memory_limit, p.max_src_resolution, p.max_src_file_size) == (1 << 30, 50.0, 100 << 20)
    assert (p.max_result_dimension, p.max_animation_frames) == (8192, 100)
    assert (p.max_animation_frame_resolution, p.max_svg_file_size) == (0.0, 10 << 20)
    assert (p.preserve_hdr, p.allow_security_options, p.auto_webp, p.auto_avif) == (
        False,
        False,
        False,
        False,
    )
    assert (p.skip_processing_formats, p.watermark_path, p.watermark_opacity) == ((), None, 1.0)
    assert (p.quality, dict(p.format_quality)) == (80, {"webp": 79, "avif": 63, "jxl": 77})
    assert (dict(p.presets), p.signature_pairs, p.signature_size) == ({}, (), 32)
    assert (p.converter_timeout, p.trusted_signatures) == (30.0, frozenset())


# Every setting, a value other than its default, and where that value must show.
USED: dict[str, tuple[str, Callable[[Settings], Any], Any]] = {
    "DATA_PATH": ("", lambda s: s.data_path.name, "data"),  # filled in by the test
    "STORAGE_PROVIDER": ("minio", lambda s: s.storage.provider, "minio"),
    "STORAGE_BUCKETS": ("b-one,b-two", lambda s: s.storage.buckets, ("b-one", "b-two")),
    "STORAGE_ENDPOINT": ("s3.example:9000", lambda s: s.storage.endpoint, "s3.example:9000"),
    "STORAGE_PORT": ("9000", lambda s: s.storage.port, 9000),
    "STORAGE_ACCESS_KEY": ("AKIAX", lambda s: s.storage.access_key, "AKIAX"),
    "STORAGE_SECRET_KEY": ("s3cr3t", lambda s: s.storage.secret_key, "s3cr3t"),
    "STORAGE_IAM_ROLE": ("reader", lambda s: s.storage.iam_role, "reader"),
    "STORAGE_REGION": ("eu-west-1", lambda s: s.storage.region, "eu-west-1"),
    "STORAGE_TIMEOUT": ("5s", lambda s: s.storage.timeout, 5.0),
    "STORAGE_RETRIES": ("7", lambda s: s.storage.retries, 7),
    "CACHE_STORAGE_SIZE": ("2g", lambda s: s.caches["storage"].size, 2 << 30),
    "CACHE_STORAGE_EXPIRES": ("3d", lambda s: s.caches["storage"].expires, 3 * 86400),
    "CACHE_PREVIEWS_SIZE": ("3g", lambda s: s.caches["previews"].size, 3 << 30),
    "CACHE_PREVIEWS_EXPIRES": ("2h", lambda s: s.caches["previews"].expires, 7200),
    "CACHE_IMAGE_CONVERTER_SIZE": ("4g", lambda s: s.caches["image_converter"].size, 4 << 30),
    "CACHE_IMAGE_CONVERTER_EXPIRES": (
        "1d",
        lambda s: s.caches["image_converter"].expires,
        86400,
    ),
    "CACHE_MAX_OBJECT_SIZE": (
        "5m",
        lambda s: {c.max_object_size for c in s.caches.values()},
        {5 << 20},
    ),
    "CACHE_MEMORY_SIZE": ("0", lambda s: s.memory_cache_size, 0),
    "CACHE_RANGE_FILL_SIZE": ("1m", lambda s: s.range_fill_size, 1 << 20),
    "CACHE_ABANDONED_FILL_LIMIT": ("2m", lambda s: s.abandoned_fill_limit, 2 << 20),
    "CACHE_SCRUB_RATE": ("0", lambda s: s.scrub_rate, 0),
    "CACHE_STALE_GRACE": ("2h", lambda s: s.stale_grace, 7200),
    "CACHE_CONTROL": ("no-store", lambda s: s.cache_control, "no-store"),
    "SHUTDOWN_TIMEOUT": ("5s", lambda s: s.shutdown_timeout, 5.0),
    "REQUEST_TIMEOUT": ("20s", lambda s: s.request_timeout, 20.0),
    "HTTP_HEADER_TIMEOUT": ("3s", lambda s: s.header_timeout, 3.0),
    "HTTP_IDLE_TIMEOUT": ("4s", lambda s: s.idle_timeout, 4.0),
    "HTTP_MAX_CONNECTIONS": ("100", lambda s: s.max_connections, 100),
    "LOG_LEVEL": ("DEBUG", lambda s: s.log_level, "debug"),
    "ACCESS_LOG": ("off", lambda s: s.access_log, False),
    "NODE_NAME": ("edge-7", lambda s: s.node_name, "edge-7"),
    "PREVIEWS_CONCURRENCY": ("3", lambda s: s.previews.concurrency, 3),
    "PREVIEWS_QUEUE": ("0", lambda s: s.previews.queue, 0),
    "PREVIEWS_MEMORY_LIMIT": ("512m", lambda s: s.previews.memory_limit, 512 << 20),
    "PREVIEWS_MAX_SRC_RESOLUTION": ("2.5", lambda s: s.previews.max_src_resolution, 2.5),
    "PREVIEWS_MAX_SRC_FILE_SIZE": ("9m", lambda s: s.previews.max_src_file_size, 9 << 20),
    "PREVIEWS_MAX_RESULT_DIMENSION": ("640", lambda s: s.previews.max_result_dimension, 640),
    "PREVIEWS_MAX_ANIMATION_FRAMES": ("1", lambda s: s.previews.max_animation_frames, 1),
    "PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION": (
        "0.5",
        lambda s: s.previews.max_animation_frame_resolution,
        0.5,
    ),
    "PREVIEWS_MAX_SVG_FILE_SIZE": ("2k", lambda s: s.previews.max_svg_file_size, 2048),
    "PREVIEWS_PRESERVE_HDR": ("on", lambda s: s.previews.preserve_hdr, True),
    "PREVIEWS_SKIP_PROCESSING_FORMATS": (
        "gif,svg",
        lambda s: s.previews.skip_processing_formats,
        ("gif", "svg"),
    ),
    "PREVIEWS_WATERMARK_PATH": (
        "/w/mark.png",
        lambda s: s.previews.watermark_path,
        Path("/w/mark.png"),
    ),
    "PREVIEWS_WATERMARK_OPACITY": ("0.25", lambda s: s.previews.watermark_opacity, 0.25),
    "PREVIEWS_ALLOW_SECURITY_OPTIONS": (
        "yes",
        lambda s: s.previews.allow_security_options,
        True,
    ),
    "PREVIEWS_AUTO_WEBP": ("on", lambda s: s.previews.auto_webp, True),
    "PREVIEWS_AUTO_AVIF": ("true", lambda s: s.previews.auto_avif, True),
    "PREVIEWS_QUALITY": ("55", lambda s: s.previews.quality, 55),
    "PREVIEWS_FORMAT_QUALITY": ("jpg=60", lambda s: dict(s.previews.format_quality), {"jpeg": 60}),
    "PREVIEWS_PRESETS": ("small=w:10", lambda s: dict(s.previews.presets), {"small": "w:10"}),
    "SIGNATURE_KEY": (
        "ab,cd",
        lambda s: [k for k, _ in s.previews.signature_pairs],
        [b"\xab", b"\xcd"],
    ),
    "SIGNATURE_SALT": (
        "01,02",
        lambda s: [v for _, v in s.previews.signature_pairs],
        [b"\x01", b"\x02"],
    ),
    "SIGNATURE_SIZE": ("8", lambda s: s.previews.signature_size, 8),
    "SIGNATURE_TRUSTED": ("sig1, sig2", lambda s: s.previews.trusted_signatures, {"sig1", "sig2"}),
    "CONVERTER_TIMEOUT": ("10s", lambda s: s.previews.converter_timeout, 10.0),
    "SIGNATURE_SCOPE": ("Previews", lambda s: s.access.signature_scope, "previews"),
    "AUTH_BEARER_TOKEN": ("0123456789abcdef", lambda s: s.access.bearer_token, "0123456789abcdef"),
    "ADMIN_TOKEN": ("fedcba9876543210", lambda s: s.admin_token, "fedcba9876543210"),
    "CACHE_STORAGE_REVALIDATE": ("30s", lambda s: s.revalidate, 30.0),
    "CACHE_STORAGE_REVALIDATE_WAIT": ("on", lambda s: s.revalidate_wait, True),
    "AUTH_REQUEST_URL": (
        "http://auth.internal:9000/check?app=1",
        lambda s: s.access.auth_request_url,
        "http://auth.internal:9000/check?app=1",
    ),
    "AUTH_REQUEST_CACHE": ("1m", lambda s: s.access.auth_request_cache, 60.0),
    "AUTH_REQUEST_SCOPE": ("credentials", lambda s: s.access.auth_request_scope, "credentials"),
    "AUTH_REQUEST_TIMEOUT": ("2s", lambda s: s.access.auth_request_timeout, 2.0),
    "AUTH_CACHE_CONTROL": ("no-cache", lambda s: s.access.cache_control, "no-cache"),
}


def test_the_value_table_covers_every_setting():
    assert set(USED) == {s.name for s in SETTINGS}
    for name, (raw, _, _) in USED.items():
        if name != "DATA_PATH":
            assert raw != next(s.default for s in SETTINGS if s.name == name), name


def test_every_accepted_value_is_used(tmp_path):
    env = {name: raw for name, (raw, _, _) in USED.items()}
    env["DATA_PATH"] = str(tmp_path / "data")
    s = parse_settings(env)
    for name, (_, read, expected) in USED.items():
        assert read(s) == expected, name
    assert s.raw == env


def test_a_value_of_only_spaces_means_the_default(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path), "CACHE_STORAGE_SIZE": "  ", "LOG_LEVEL": ""})
    assert (s.caches["storage"].size, s.log_level) == (10 << 30, "info")
    assert (
        parse_settings({"DATA_PATH": str(tmp_path), "PREVIEWS_QUALITY": " 70 "}).previews.quality
        == 70
    )


def test_the_data_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert parse_settings({"DATA_PATH": "rel/data"}).data_path == tmp_path / "rel" / "data"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    s = parse_settings({"DATA_PATH": "~/d", "PREVIEWS_WATERMARK_PATH": "~/mark.png"})
    assert s.data_path == tmp_path / "home" / "d"
    assert s.previews.watermark_path == tmp_path / "home" / "mark.png"


def test_local_buckets_default_to_the_folders_under_storage(tmp_path):
    for name in ("abc-public", "abc-private"):
        (tmp_path / "storage" / name).mkdir(parents=True)
    (tmp_path / "storage" / "not a bucket").mkdir()
    (tmp_path / "storage" / "a-file").write_text("not a folder")
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.storage.buckets == ("abc-private", "abc-public")
    assert s.storage.root == tmp_path / "storage"
    s = parse_settings({"DATA_PATH": str(tmp_path), "STORAGE_BUCKETS": "abc-public"})
    assert s.storage.buckets == ("abc-public",)


def test_no_storage_folder_means_no_buckets(tmp_path):
    assert parse_settings({"DATA_PATH": str(tmp_path / "fresh")}).storage.buckets == ()


@pytest.mark.parametrize(
    ("name", "value", "form"),
    [
        ("CACHE_STORAGE_SIZE", "lots", "k, m, g or t suffix"),
        ("CACHE_PREVIEWS_EXPIRES", "soon", "duration"),
        ("STORAGE_PROVIDER", "ftp", "http, minio or azure"),
        ("STORAGE_PORT", "99999", "port"),
        ("STORAGE_BUCKETS", "../etc", "bucket"),
        ("LOG_LEVEL", "loud", "debug, info"),
        ("SIGNATURE_KEY", "zz", "hex"),
        ("PREVIEWS_QUALITY", "101", "1-100"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_form(tmp_path, name, value, form):
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), name: value})
    assert len(err.value.problems) >= 1
    line = err.value.problems[0]
    assert line.startswith(name)
    assert form in line


def test_a_rejection_says_the_value_the_form_and_why(tmp_path):
    (line,) = problems_of({"STORAGE_PORT": "0"}, tmp_path)
    assert line == (
        "STORAGE_PORT='0' is invalid: expected a port number 1-65535, or empty for the "
        "endpoint's own (0 is out of range: from 1 to 65535)"
    )
    # A reason that only repeats the value is left out.
    (line,) = problems_of({"CACHE_STORAGE_SIZE": "huge"}, tmp_path)
    assert line == (
        "CACHE_STORAGE_SIZE='huge' is invalid: expected a byte count with an optional k, m, g "
        "or t suffix, e.g. 512k or 10g, from 64k to 1024t"
    )
    (line,) = problems_of({"ACCESS_LOG": "maybe"}, tmp_path)
    assert line == "ACCESS_LOG='maybe' is invalid: expected on or off"


def test_every_bad_variable_is_one_line_all_at_once(tmp_path):
    problems = problems_of(
        {
            "CACHE_STORAGE_SIZE": "1",
            "LOG_LEVEL": "loud",
            "PREVIEWS_QUALITY": "0",
            "SIGNATURE_SIZE": "33",
            "PREVIEWS_WATERMARK_OPACITY": "2",
        },
        tmp_path,
    )
    assert sorted(line.partition("=")[0] for line in problems) == [
        "CACHE_STORAGE_SIZE",
        "LOG_LEVEL",
        "PREVIEWS_QUALITY",
        "PREVIEWS_WATERMARK_OPACITY",
        "SIGNATURE_SIZE",
    ]
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), "LOG_LEVEL": "loud", "ACCESS_LOG": "x"})
    assert str(err.value) == "\n".join(err.value.problems)


def test_remote_providers_need_their_settings(tmp_path):
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), "STORAGE_PROVIDER": "minio"})
    text = "\n".join(err.value.problems)
    assert "STORAGE_BUCKETS" in text
    assert "STORAGE_ACCESS_KEY" in text
    assert "STORAGE_SECRET_KEY" in text


def test_what_each_remote_provider_requires(tmp_path):
    assert problems_of(MINIO, tmp_path) == [
        "STORAGE_ACCESS_KEY is required for minio (or STORAGE_IAM_ROLE)",
        "STORAGE_SECRET_KEY is required for minio (or STORAGE_IAM_ROLE)",
    ]
    assert problems_of({**MINIO, "STORAGE_PROVIDER": "azure"}, tmp_path) == [
        "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net",
        "STORAGE_ACCESS_KEY is required for azure",
        "STORAGE_SECRET_KEY is required for azure",
    ]
    assert problems_of({"STORAGE_PROVIDER": "azure", **KEYS}, tmp_path) == [
        "STORAGE_BUCKETS is required for a remote provider: comma-separated names",
        "STORAGE_ENDPOINT is required for azure: https://<account>.blob.core.windows.net",
    ]
    # An IAM role stands in for the keys on S3, not on Azure.
    parse_settings({"DATA_PATH": str(tmp_path), **MINIO, "STORAGE_IAM_ROLE": "reader"})
    azure = {"STORAGE_PROVIDER": "azure", "STORAGE_ENDPOINT": "https://a.blob.core.windows.net"}
    assert problems_of({**MINIO, **azure, "STORAGE_IAM_ROLE": "reader"}, tmp_path) == [
        "STORAGE_ACCESS_KEY is required for azure",
        "STORAGE_SECRET_KEY is required for azure",
    ]


def test_a_bad_bucket_list_is_said_once_not_also_as_missing(tmp_path):
    (line,) = problems_of({**MINIO, **KEYS, "STORAGE_BUCKETS": "Bad"}, tmp_path)
    assert line.startswith("STORAGE_BUCKETS='Bad' is invalid")


def test_the_s3_default_endpoint_is_explicit(tmp_path):
    env = {"DATA_PATH": str(tmp_path), **MINIO, **KEYS}
    s = parse_settings(env).storage
    assert (s.endpoint, s.endpoint_is_default) == ("https://s3.us-east-1.amazonaws.com", True)
    s = parse_settings({**env, "STORAGE_REGION": "eu-central-1"}).storage
    assert (s.endpoint, s.endpoint_is_default) == ("https://s3.eu-central-1.amazonaws.com", True)
    s = parse_settings({**env, "STORAGE_ENDPOINT": "http://127.0.0.1:9000"}).storage
    assert (s.endpoint, s.endpoint_is_default) == ("http://127.0.0.1:9000", False)
    # Only S3 has a default: the local provider has no endpoint at all.
    s = parse_settings({"DATA_PATH": str(tmp_path)}).storage
    assert (s.endpoint, s.endpoint_is_default) == ("", False)


def test_keys_and_salts_pair_up(tmp_path):
    s = parse_settings(
        {"DATA_PATH": str(tmp_path), "SIGNATURE_KEY": "aa,bb", "SIGNATURE_SALT": "cc,dd"}
    )
    assert s.previews.signature_pairs == ((b"\xaa", b"\xcc"), (b"\xbb", b"\xdd"))
    assert problems_of({"SIGNATURE_KEY": "aa,bb", "SIGNATURE_SALT": "cc"}, tmp_path) == [
        "SIGNATURE_KEY and SIGNATURE_SALT must have the same number of comma-separated hex values"
    ]


def test_a_cache_holds_no_object_larger_than_itself(tmp_path):
    s = parse_settings(
        {"DATA_PATH": str(tmp_path), "CACHE_PREVIEWS_SIZE": "1m", "CACHE_MAX_OBJECT_SIZE": "4m"}
    )
    assert s.caches["previews"].max_object_size == 1 << 20
    assert s.caches["storage"].max_object_size == 4 << 20


def test_the_queue_follows_the_concurrency(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path), "PREVIEWS_CONCURRENCY": "5"})
    assert (s.previews.concurrency, s.previews.queue) == (5, 320)


def test_the_node_name_defaults_to_the_host_name(tmp_path, monkeypatch):
    s = parse_settings({"DATA_PATH": str(tmp_path)})
    assert s.node_name == host_name()
    assert NODE_NAME_RE.fullmatch(s.node_name)
    monkeypatch.setattr(socket, "gethostname", lambda: "my host!.example")
    assert host_name() == "my-host-.example"
    monkeypatch.setattr(socket, "gethostname", lambda: "-" * 5)
    assert host_name() == "node"
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 80)
    assert host_name() == "h" * 63


def test_available_cores_is_this_process_s_cpu_set():
    assert available_cores() == len(os.sched_getaffinity(0))


def test_env_file_then_environment(tmp_path):
    env_file = tmp_path / "proxy.env"
    env_file.write_text(f"DATA_PATH={tmp_path}\nCACHE_PREVIEWS_SIZE=2g\nCACHE_STORAGE_SIZE=1g\n")
    s = load_settings(env_file, environ={"CACHE_STORAGE_SIZE": "3g", "UNRELATED": "x"})
    assert s.env_file == env_file
    assert s.caches["previews"].size == 2 << 30
    assert s.caches["storage"].size == 3 << 30  # the environment wins, as in compose
    assert "UNRELATED" not in s.raw


def test_an_env_file_in_compose_syntax(tmp_path):
    env_file = tmp_path / "proxy.env"
    env_file.write_text(
        "# a comment\n\nexport LOG_LEVEL=debug\nCACHE_CONTROL='max-age=60, public'\n"
        'NODE_NAME="edge-1"  # trailing comment\nBARE\n'
    )
    assert read_env_file(env_file) == {
        "LOG_LEVEL": "debug",
        "CACHE_CONTROL": "max-age=60, public",
        "NODE_NAME": "edge-1",
    }


def test_dot_env_in_the_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text(f"DATA_PATH={tmp_path}/d\nCACHE_STORAGE_EXPIRES=1h\n")
    s = load_settings(environ={})
    assert s.caches["storage"].expires == 3600
    assert s.data_path == tmp_path / "d"
    assert s.env_file == Path(".env")


def test_without_an_env_file_only_the_environment_counts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"DATA_PATH": str(tmp_path), "LOG_LEVEL": "error"})
    assert (s.env_file, s.log_level) == (None, "error")


def test_missing_env_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.env", environ={})
    with pytest.raises(SettingsError) as err:
        read_env_file(tmp_path)  # a folder is not an env file
    assert err.value.problems == [f"env file {tmp_path} does not exist"]


def test_a_bad_setting_stops_the_start_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "serve"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path), "CACHE_STORAGE_SIZE": "huge"},
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CACHE_STORAGE_SIZE" in lines[0]
    assert "Traceback" not in done.stderr


def test_bad_access_settings_stop_the_start_naming_each(tmp_path):
    with pytest.raises(SettingsError) as err:
        parse_settings(
            {
                "DATA_PATH": str(tmp_path),
                "SIGNATURE_KEY": "not-hex",
                "SIGNATURE_SALT": "00",
                "AUTH_BEARER_TOKEN": "too-short",
                "AUTH_REQUEST_URL": "auth-service:9000",
                "SIGNATURE_SCOPE": "some",
            }
        )
    named = sorted(line.split("=")[0].split()[0] for line in err.value.problems)
    assert named == [
        "AUTH_BEARER_TOKEN", "AUTH_REQUEST_URL", "SIGNATURE_KEY", "SIGNATURE_SCOPE",
    ]  # fmt: skip
    text = "\n".join(err.value.problems)
    assert "too-short" not in text and "not-hex" not in text  # secrets are never printed
