import subprocess
import sys

from proxy import admin


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
