"""`check` on the local provider: what would stop `serve`, and what `serve` would do at start."""

from __future__ import annotations

import subprocess
import sys

from proxy.checks import run_checks, start_notes
from proxy.settings import parse_settings


async def test_a_proxy_that_could_serve_has_no_problems(make_settings):
    settings = make_settings()
    assert await run_checks(settings) == []
    assert start_notes(settings) == []


async def test_no_buckets_at_all(tmp_path):
    settings = parse_settings({"DATA_PATH": str(tmp_path / "fresh")})
    assert await run_checks(settings) == [
        f"http: no buckets: set STORAGE_BUCKETS, or add folders under {tmp_path / 'fresh' / 'storage'}"
    ]


async def test_a_configured_folder_serve_would_make_is_a_note_not_a_problem(
    make_settings, data_path
):
    settings = make_settings(STORAGE_BUCKETS="abc-public,abc-new,abc-newer")
    assert await run_checks(settings) == []
    storage = data_path / "storage"
    assert start_notes(settings) == [
        f"http: bucket folder {storage / 'abc-new'} does not exist; serve creates it at start",
        f"http: bucket folder {storage / 'abc-newer'} does not exist; serve creates it at start",
    ]
    assert not (storage / "abc-new").exists()  # check only looks
    assert not (data_path / "proxy_cache").exists()


async def test_a_file_where_a_bucket_folder_must_be_made(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "storage").write_text("not a folder")
    settings = parse_settings({"DATA_PATH": str(data), "STORAGE_BUCKETS": "abc-new"})
    problems = await run_checks(settings)
    assert problems == [
        f"http: bucket folder {data / 'storage' / 'abc-new'} is missing and cannot be created: "
        f"{data / 'storage'} is not writable"
    ]


async def test_a_file_where_the_cache_folders_must_be(make_settings, data_path):
    # serve would fail to make its caches here (NotADirectoryError): check must say so.
    (data_path / "proxy_cache").write_text("not a folder")
    problems = await run_checks(make_settings())
    cache = data_path / "proxy_cache"
    assert problems == [
        f"cache {name}: {cache / name} cannot be created: {cache} is not writable"
        for name in ("storage", "previews", "image_converter")
    ]


async def test_a_file_in_place_of_one_cache_folder(make_settings, data_path):
    (data_path / "proxy_cache").mkdir()
    (data_path / "proxy_cache" / "previews").write_text("not a folder")
    problems = await run_checks(make_settings())
    assert problems == [f"cache previews: {data_path / 'proxy_cache' / 'previews'} is not writable"]


def test_a_remote_provider_has_no_start_notes(tmp_path):
    settings = parse_settings(
        {
            "DATA_PATH": str(tmp_path),
            "STORAGE_PROVIDER": "minio",
            "STORAGE_BUCKETS": "abc-public",
            "STORAGE_IAM_ROLE": "reader",
        }
    )
    assert start_notes(settings) == []


def test_check_reports_ok_and_problems(tmp_path):
    def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "proxy", "check"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=tmp_path,
            timeout=60,
        )

    (tmp_path / "storage" / "abc-public").mkdir(parents=True)
    done = check({"DATA_PATH": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
    # A missing folder would be created by serve (so check only notes it); a file in its
    # place is a problem.
    (tmp_path / "storage" / "abc-missing").write_text("not a folder")
    done = check({"DATA_PATH": str(tmp_path), "STORAGE_BUCKETS": "abc-public,abc-missing"})
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "abc-missing" in lines[0] and "bucket missing" in lines[0]
