"""`cache warm`: paths requested from the running server; clear words when it is not there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from proxy import admin
from proxy.settings import parse_settings
from proxy.warm import to_path
from tests.server_process import ServerProcess, free_port


def warm(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", "cache", "warm", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_only_the_path_of_a_url_is_requested() -> None:
    assert to_path("http://example.com/abc-public/a.jpg?x=1") == "/abc-public/a.jpg?x=1"
    assert to_path("abc-public/a.jpg") == "/abc-public/a.jpg"


def test_warm_fills_the_cache_through_the_running_server(data_path: Path, tmp_path: Path) -> None:
    (data_path / "storage" / "abc-public" / "a.jpg").write_bytes(b"a" * 1000)
    (data_path / "storage" / "abc-public" / "b.jpg").write_bytes(b"b" * 2000)
    listing = tmp_path / "warm.txt"
    listing.write_text(
        "/abc-public/a.jpg\nabc-public/b.jpg\n# a comment\n/abc-public/missing.jpg\n"
    )
    # The server wants a bearer on every request: warming sends the one its settings name.
    env = {"PATH": "/usr/bin:/bin", "DATA_PATH": str(data_path), "AUTH_BEARER_TOKEN": "w" * 20}
    with ServerProcess(env, tmp_path) as server:
        done = warm(str(listing), "--url", server.base, env=env)
        assert done.returncode == 1  # one path failed
        assert "warmed 2 of 3; 1 failed" in done.stdout
        assert "/abc-public/missing.jpg: 404" in done.stdout
        # stderr is a pipe here, as in a log: whole lines, the last one the final count, once.
        lines = done.stderr.splitlines()
        assert "\r" not in done.stderr
        assert lines[-1].startswith("warm: 100%") and " 3/3 " in lines[-1]
        assert len(lines) == len(set(lines))
        server.stop()
    stats = {row["cache"]: row for row in admin.cache_stats(parse_settings(env))}
    assert stats["storage"]["entries"] == 2
    assert stats["storage"]["bytes"] == 3000


def test_a_server_that_is_not_there_is_one_line_with_the_url_and_a_hint(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = warm("-", "--url", url, env={"PATH": "/usr/bin:/bin"}, stdin="/a/b.jpg\n/a/c.jpg\n")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: cannot connect to {url} (Connection refused): is `python -m proxy serve` running there? --url names another server"
    ]


def test_a_missing_list_is_a_usage_error(tmp_path: Path) -> None:
    done = warm(str(tmp_path / "nope.txt"), env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"error: cannot read {tmp_path / 'nope.txt'}: No such file or directory"
    )
    assert "Traceback" not in done.stderr
