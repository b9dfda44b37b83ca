"""`check` and `/health` agree on what makes the proxy unable to serve; `serve` creates the local
provider's configured bucket folders at start, and `check` says it would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.server_process import ServerProcess


def check(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", "check"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def health(base: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(base + "/health", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class UnhealthyServer(ServerProcess):
    """A server expected to answer /health with 503: ready as soon as it answers at all."""

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stdout.read()}")  # type: ignore[union-attr]
            try:
                health(self.base)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")


def test_no_buckets_at_all_fails_check_and_health_alike(tmp_path: Path) -> None:
    data = tmp_path / "data"  # a fresh folder, no .env: nothing to serve
    done = check({"DATA_PATH": str(data)}, tmp_path)
    assert done.returncode == 1
    line = f"http: no buckets: set STORAGE_BUCKETS, or add folders under {data / 'storage'}"
    assert done.stdout.splitlines() == [line]

    with UnhealthyServer({"DATA_PATH": str(data)}, tmp_path) as server:
        status, report = health(server.base)
        assert status == 503
        assert report["storage"] == line
        assert report["status"] == "unavailable"


def test_configured_bucket_folders_are_created_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"DATA_PATH": str(data), "STORAGE_BUCKETS": "abc-public,abc-private"}
    done = check(env, tmp_path)
    assert done.returncode == 0, done.stdout
    storage = data / "storage"
    assert done.stdout.splitlines() == [
        f"http: bucket folder {storage / 'abc-private'} does not exist; serve creates it at start",
        f"http: bucket folder {storage / 'abc-public'} does not exist; serve creates it at start",
        "OK: http storage answers, caches are writable, libvips works",
    ]
    assert not storage.exists()  # check only looks

    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        assert health(server.base)[0] == 200
        output = server.stop()
    assert (storage / "abc-public").is_dir() and (storage / "abc-private").is_dir()
    # Said once, by whichever worker made the folder.
    for bucket in ("abc-public", "abc-private"):
        assert output.count(f"created bucket folder {storage / bucket}: STORAGE_BUCKETS") == 1


@pytest.mark.parametrize("bad", ["STORAGE_TIMEOUT=1x", "STORAGE_PROVIDER=ftp"])
def test_invalid_settings_are_problems_for_check_and_stop_the_others(
    bad: str, tmp_path: Path
) -> None:
    name, _, value = bad.partition("=")
    env = {"DATA_PATH": str(tmp_path / "data"), name: value}
    done = check(env, tmp_path)
    assert done.returncode == 1
    assert done.stdout.startswith(f"{name}='{value}' is invalid: expected ")
    where = subprocess.run(
        [sys.executable, "-m", "proxy", "where"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 2
    assert where.stderr.startswith(f"error: {name}='{value}' is invalid")
