"""What `where` prints: locations, the S3 default endpoint said as such, secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from proxy.settings import describe, mask, parse_settings

REMOTE = {
    "STORAGE_PROVIDER": "minio",
    "STORAGE_BUCKETS": "abc-public,abc-private",
    "STORAGE_ACCESS_KEY": "AKIAEXAMPLE",
    "STORAGE_SECRET_KEY": "very-secret-value-1234",
}


SIGNED = {"SIGNATURE_KEY": "00", "SIGNATURE_SALT": "11"}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", ""),
        ("a", "****"),
        ("twelve-chars", "****"),
        ("thirteen-char", "****ar"),
        ("very-secret-value-1234", "****34"),
    ],
)
def test_mask(value, shown):
    assert mask(value) == shown


def test_the_local_provider(tmp_path):
    (tmp_path / "storage" / "abc-public").mkdir(parents=True)
    env = {
        "DATA_PATH": str(tmp_path),
        "NODE_NAME": "edge-1",
        "STORAGE_SECRET_KEY": "ignored-by-http-provider",
        "STORAGE_REGION": "eu-west-1",
        "CACHE_PREVIEWS_SIZE": "100000",
        "CACHE_PREVIEWS_EXPIRES": "90m",
    }
    rows = describe(parse_settings(env))
    assert rows[:6] == [
        ("env file", "(none)"),
        ("NODE_NAME", "edge-1"),
        ("DATA_PATH", str(tmp_path)),
        ("STORAGE_PROVIDER", "http"),
        ("STORAGE_BUCKETS", "abc-public"),
        ("storage folder", str(tmp_path / "storage")),
    ]
    cache = tmp_path / "proxy_cache"
    assert rows[6:] == [
        ("cache storage", f"{cache / 'storage'} (size 10g, expires 7d)"),
        ("cache previews", f"{cache / 'previews'} (size 100000, expires 90m)"),
        ("cache image_converter", f"{cache / 'image_converter'} (size 10g, expires 7d)"),
        ("access", "anyone who reaches the port (no key, bearer or auth service)"),
    ]


def test_an_unnamed_node_says_it_is_the_host_name(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path / "fresh"), "NODE_NAME": "  "})
    rows = dict(describe(s))
    assert rows["NODE_NAME"] == f"{s.node_name} (host name)"
    assert rows["STORAGE_BUCKETS"] == "(none)"


def test_a_remote_provider_with_the_default_endpoint(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path), **REMOTE, "STORAGE_REGION": "eu-west-1"})
    rows = describe(s)
    names = [name for name, _ in rows]
    assert "storage folder" not in names
    shown = dict(rows)
    assert shown["STORAGE_ENDPOINT"] == "https://s3.eu-west-1.amazonaws.com (default: AWS S3)"
    assert shown["STORAGE_ACCESS_KEY"] == "AKIAEXAMPLE"
    assert shown["STORAGE_SECRET_KEY"] == "****34"
    assert shown["STORAGE_REGION"] == "eu-west-1"
    # Defaults that say something are shown; empty ones are not.
    assert (shown["STORAGE_TIMEOUT"], shown["STORAGE_RETRIES"]) == ("30s", "3")
    assert "STORAGE_PORT" not in shown and "STORAGE_IAM_ROLE" not in shown
    assert names.index("STORAGE_ENDPOINT") == names.index("STORAGE_BUCKETS") + 1


def test_a_given_endpoint_is_shown_as_given(tmp_path):
    env = {
        "DATA_PATH": str(tmp_path),
        **REMOTE,
        "STORAGE_ENDPOINT": "s3.local",
        "STORAGE_PORT": "443",
    }
    shown = dict(describe(parse_settings(env)))
    assert (shown["STORAGE_ENDPOINT"], shown["STORAGE_PORT"]) == ("s3.local", "443")


def test_every_other_secret_is_masked(tmp_path):
    env = {
        "DATA_PATH": str(tmp_path),
        "SIGNATURE_KEY": "0123456789abcdef",
        "SIGNATURE_SALT": "fedcba9876543210",
        "SIGNATURE_TRUSTED": "short",
        "AUTH_BEARER_TOKEN": "a-bearer-token-0123456789",
    }
    rows = describe(parse_settings(env))
    assert rows[-5:] == [
        ("access", "bearer token, signed URLs"),
        ("SIGNATURE_KEY", "****ef"),
        ("SIGNATURE_SALT", "****10"),
        ("SIGNATURE_TRUSTED", "****"),
        ("AUTH_BEARER_TOKEN", "****89"),
    ]
    text = repr(rows)
    for value in env.values():
        if value != str(tmp_path):
            assert value not in text


@pytest.mark.parametrize(
    "env, said",
    [
        ({"SIGNATURE_SCOPE": "previews", **SIGNED}, "signed previews (only)"),
        (
            {"AUTH_REQUEST_URL": "http://auth:9/ok", "AUTH_REQUEST_SCOPE": "credentials"},
            "auth service http://auth:9/ok (per credentials)",
        ),
    ],
)
def test_where_says_who_may_read(tmp_path, env, said):
    rows = dict(describe(parse_settings({"DATA_PATH": str(tmp_path), **env})))
    assert rows["access"] == said


def test_where_prints_locations_and_masks_secrets(tmp_path):
    env_file = tmp_path / "remote.env"
    env_file.write_text(
        f"DATA_PATH={tmp_path}\nSTORAGE_PROVIDER=minio\nSTORAGE_BUCKETS=abc-public,abc-private\n"
        "STORAGE_ENDPOINT=s3.amazonaws.com\nSTORAGE_PORT=443\nSTORAGE_ACCESS_KEY=AKIAEXAMPLE\n"
        "STORAGE_SECRET_KEY=very-secret-value-1234\nSIGNATURE_KEY=abcd\nSIGNATURE_SALT=ef01\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "where", "--env-file", str(env_file)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert str(env_file) in out
    assert str(tmp_path) in out
    assert str(tmp_path / "proxy_cache" / "previews") in out
    assert "minio" in out and "abc-public,abc-private" in out
    assert "very-secret-value-1234" not in out
    assert "abcd" not in out.replace(str(tmp_path), "")
    assert "****" in out


def test_the_env_file_row_names_the_file(tmp_path):
    s = parse_settings({"DATA_PATH": str(tmp_path)}, env_file=Path("proxy.env"))
    assert describe(s)[0] == ("env file", "proxy.env")
