"""The composition root: every service built once from the settings, and wired to each other."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proxy.services import build_services, validate
from proxy.settings import SettingsError
from proxy.storage import create_storage
from tests.storage.conftest import ROOT


def test_the_settings_reach_the_services(make_settings, data_path):
    settings = make_settings(
        PREVIEWS_CONCURRENCY="2",
        PREVIEWS_QUEUE="5",
        PREVIEWS_MEMORY_LIMIT="256m",
        PREVIEWS_MAX_SRC_RESOLUTION="3",
        PREVIEWS_MAX_SRC_FILE_SIZE="2m",
        PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION="0.5",
        CACHE_RANGE_FILL_SIZE="1m",
        CONVERTER_TIMEOUT="7s",
        REQUEST_TIMEOUT="9s",
        NODE_NAME="edge-3",
    )
    services = build_services(settings)
    try:
        assert services.settings is settings
        assert (services.pool.concurrency, services.pool.queue) == (2, 5)
        assert services.pool.memory_limit == 256 << 20
        assert services.originals.range_fill_size == 1 << 20
        assert (services.converter.timeout, services.previews.timeout) == (7.0, 9.0)
        assert (services.converter.limits.max_pixels, services.converter.limits.max_file_size) == (
            3_000_000,
            2 << 20,
        )
        limits = services.previews.render_settings.limits
        assert (limits.max_pixels, limits.max_file_size, limits.max_frame_pixels) == (
            3_000_000,
            2 << 20,
            500_000,
        )
        assert services.health.node == "edge-3"
        assert set(services.health.checks) == {"render"}
        for name, cache in settings.caches.items():
            assert services.caches.named(name).directory == cache.path
    finally:
        services.caches.close_offline()


def test_one_of_each_shared_by_those_that_use_it(make_settings):
    services = build_services(make_settings())
    try:
        assert services.originals.storage is services.storage
        assert services.converter.storage is services.storage
        assert services.originals.cache is services.caches.storage
        assert services.converter.cache is services.caches.image_converter
        assert services.previews.cache is services.caches.previews
        assert services.converter.pool is services.previews.pool is services.pool
        assert services.converter.originals is services.originals
        assert services.previews.sources.converter is services.converter
        assert services.previews.sources.spool_dir == services.caches.previews.staging_dir
        assert services.health.storage is services.storage
        assert services.health.caches is services.caches
    finally:
        services.caches.close_offline()


def test_a_given_storage_is_used_instead(make_settings):
    settings = make_settings()
    storage = create_storage(settings.storage)
    services = build_services(settings, storage)
    try:
        assert services.storage is storage
    finally:
        services.caches.close_offline()


def test_a_bad_preset_stops_the_build_before_anything_is_made(make_settings, data_path):
    settings = make_settings(PREVIEWS_PRESETS="thumb=nonsense:1")
    with pytest.raises(SettingsError) as err:
        validate(settings)
    (line,) = err.value.problems
    assert line.startswith("PREVIEWS_PRESETS: ")
    with pytest.raises(SettingsError):
        build_services(settings)
    assert not (data_path / "proxy_cache").exists()


def test_a_missing_watermark_is_a_settings_problem(make_settings, data_path):
    settings = make_settings(PREVIEWS_WATERMARK_PATH=str(data_path / "no-such.png"))
    with pytest.raises(SettingsError) as err:
        validate(settings)
    (line,) = err.value.problems
    assert "PREVIEWS_WATERMARK_PATH" in line


async def test_started_services_serve_an_original_through_the_cache(
    make_settings, put_file, jpeg_bytes
):
    put_file("a.jpg", jpeg_bytes)
    services = build_services(make_settings())
    await services.start()
    try:
        async with await services.originals.entry("abc-public", "a.jpg") as entry:
            assert (entry.status, entry.read_all()) == ("MISS", jpeg_bytes)
        async with await services.originals.entry("abc-public", "a.jpg") as entry:
            assert (entry.status, entry.read_all()) == ("HIT", jpeg_bytes)
    finally:
        await services.close()


def test_a_server_process_loads_no_decoder(tmp_path):
    # Decoding happens in render processes only; a server process that imported the job
    # modules for their argument classes would carry libvips, numpy, Pillow and FFmpeg
    # (some 45 MiB) for nothing. tests/test_workers.py holds it for a running server.
    script = (
        "import sys, asyncio\n"
        "from proxy.settings import parse_settings\n"
        "from proxy.services import build_services\n"
        "from proxy.web.app import create_app\n"
        f"settings = parse_settings({{'DATA_PATH': {str(tmp_path)!r}}})\n"
        "async def main():\n"
        "    create_app(build_services(settings))\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyvips', 'numpy', 'PIL', 'av')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out == "[]\n"
