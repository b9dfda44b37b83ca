import subprocess
import sys

from proxy import admin
from proxy.settings import parse_settings


async def test_stats_and_purge_while_serving(make_client, make_settings, put_file, data_path):
    settings = make_settings()
    client = await make_client(settings)
    put_file("photos/1.jpg", b"one")
    put_file("photos/2.jpg", b"two")
    put_file("other/3.jpg", b"three")
    for key in ("photos/1.jpg", "photos/2.jpg", "other/3.jpg"):
        await (await client.get(f"/abc-public/{key}")).read()

    stats = {row["cache"]: row for row in admin.cache_stats(settings)}
    assert stats["storage"]["entries"] == 3
    assert stats["storage"]["bytes"] == 11
    assert stats["storage"]["bound"] == settings.caches["storage"].size
    assert stats["storage"]["oldest_access"] is not None
    assert "storage" in admin.format_stats(stats.values())

    removed = admin.purge(settings, "storage", "abc-public/photos/")
    assert removed["storage"] == 2
    assert set(removed) == {"storage", "previews", "image_converter"}
    assert (await client.get("/abc-public/photos/1.jpg")).headers["X-Cache-Status"] == "MISS"
    assert (await client.get("/abc-public/other/3.jpg")).headers["X-Cache-Status"] == "HIT"


def test_cache_commands_on_the_command_line(tmp_path):
    (tmp_path / "storage" / "abc-public").mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path)}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "proxy", "cache", *a], env=env, capture_output=True, text=True
    )
    stats = run("stats")
    assert stats.returncode == 0, stats.stderr
    for name in ("storage", "previews", "image_converter"):
        assert name in stats.stdout
    purged = run("purge", "--prefix", "abc-public/x/")
    assert purged.returncode == 0, purged.stderr
    assert "storage: removed 0 entries" in purged.stdout


def test_warm_fills_the_cache_through_the_running_server(data_path, tmp_path):
    from proxy.warm import to_path
    from tests.server_process import ServerProcess

    assert to_path("http://example.com/abc-public/a.jpg?x=1") == "/abc-public/a.jpg?x=1"
    (data_path / "storage" / "abc-public" / "a.jpg").write_bytes(b"a" * 1000)
    (data_path / "storage" / "abc-public" / "b.jpg").write_bytes(b"b" * 2000)
    listing = tmp_path / "warm.txt"
    listing.write_text(
        "/abc-public/a.jpg\nabc-public/b.jpg\n# a comment\n/abc-public/missing.jpg\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DATA_PATH": str(data_path)}
    with ServerProcess(env, tmp_path) as server:
        done = subprocess.run(
            [sys.executable, "-m", "proxy", "cache", "warm", str(listing), "--url", server.base],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1  # one path failed
        assert "warmed 2 of 3; 1 failed" in done.stdout
        assert "/abc-public/missing.jpg: 404" in done.stdout
        assert "3/3 objects" in done.stderr
        server.stop()
    stats = {row["cache"]: row for row in admin.cache_stats(parse_settings(env))}
    assert stats["storage"]["entries"] == 2
    assert stats["storage"]["bytes"] == 3000
