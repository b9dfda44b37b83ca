"""A preview request from URL to cached answer: resolving, keys, ETags and types (proxy.previews.feature)."""

import time

import pytest

from proxy.errors import NotFound
from proxy.previews import feature
from proxy.previews.feature import Previews, cache_key
from proxy.previews.parse import parse_options
from proxy.sources import SourceRef
from proxy.web.app import SERVICES
from tests.conftest import encode_image
from tests.previews.conftest import fetcher, size_of

PHOTO = SourceRef("abc-public", "images/photo.jpg")


async def previews_of(make_client, settings) -> Previews:  # type: ignore[no-untyped-def]
    return (await make_client(settings)).server.app[SERVICES].previews


def test_the_cache_key_is_what_changes_the_bytes() -> None:
    fill = parse_options(["rs:fill:300"])
    key = cache_key(fill, PHOTO, "jpeg", "80")
    assert key == cache_key(parse_options(["resize:fill:300:0:0"]), PHOTO, "jpeg", "80")
    assert key == cache_key(parse_options(["rs:fill:300", "fn:x", "att:1"]), PHOTO, "jpeg", "80")
    others = {
        cache_key(parse_options(["rs:fit:300"]), PHOTO, "jpeg", "80"),
        cache_key(fill, SourceRef("abc-public", "images/other.jpg"), "jpeg", "80"),
        cache_key(fill, PHOTO, "png", "80"),
        cache_key(fill, PHOTO, "jpeg", "90"),  # PREVIEWS_QUALITY changed
        cache_key(fill, PHOTO, "jpeg", "80", "best5.5:0:1"),  # PREVIEWS_BEST_FORMAT_*
    }
    assert key not in others and len(others) == 5


async def test_resolve_reads_the_whole_url(make_client, make_settings, photo) -> None:  # type: ignore[no-untyped-def]
    previews = await previews_of(make_client, make_settings())
    preview = previews.resolve(f"q/rs:fill:30:20/f:webp/plain/{photo}@png", "", "")
    assert preview.source == PHOTO
    assert (preview.options.width, preview.options.height) == (30, 20)
    assert preview.options.format == "png"  # the extension beats f:
    assert preview.choice.format == "png" and not preview.choice.vary_accept
    assert preview.key.endswith("|abc-public/images/photo.jpg|png|dq80")


async def test_accept_splits_the_memo_only_where_it_changes_the_answer(
    make_client, make_settings, photo
) -> None:  # type: ignore[no-untyped-def]
    path = f"q/w:40/plain/{photo}"
    plain = await previews_of(make_client, make_settings())
    assert plain.resolve(path, "", "image/webp") is plain.resolve(path, "", "*/*")
    auto = await previews_of(make_client, make_settings(PREVIEWS_AUTO_WEBP="on"))
    webp, other = auto.resolve(path, "", "image/webp,*/*"), auto.resolve(path, "", "*/*")
    assert webp.choice.vary_accept and webp.key != other.key


async def test_expiry_is_checked_on_every_request_not_memoised(
    make_client, make_settings, photo, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    previews = await previews_of(make_client, make_settings())
    deadline = int(time.time()) + 3600
    path = f"q/exp:{deadline}/w:10/plain/{photo}"
    first = previews.resolve(path, "", "")
    with monkeypatch.context() as later:
        later.setattr(feature.time, "time", lambda: deadline + 1.0)
        with pytest.raises(NotFound, match="expired"):
            previews.resolve(path, "", "")
    assert previews.resolve(path, "", "") is first


async def test_the_etag_follows_the_key_and_the_source_not_the_render(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    client = await make_client(make_settings())
    fetch = fetcher(client)
    put_file("a.jpg", encode_image(64, 48))
    url = "/previews/q/w:20/plain/abc-public/a.jpg"
    _, _, first = await fetch(url)
    caches = client.server.app[SERVICES].caches
    caches.previews.purge_prefix("abc-public/a.jpg")
    _, _, again = await fetch(url)
    assert again["X-Cache-Status"] == "MISS" and again["ETag"] == first["ETag"]
    # The original changes (a new storage ETag): its previews get a new ETag.
    put_file("a.jpg", encode_image(64, 48, ".jpg", Q=50))
    caches.storage.purge_prefix("abc-public/a.jpg")
    caches.previews.purge_prefix("abc-public/a.jpg")
    _, _, changed = await fetch(url)
    assert changed["ETag"] != first["ETag"]


async def test_the_type_is_the_rendered_formats_or_the_sources_when_served_raw(
    fetch, put_file
) -> None:  # type: ignore[no-untyped-def]
    source = encode_image(64, 48, ".png")
    put_file("a.png", source)
    status, body, headers = await fetch("/previews/q/w:20/plain/abc-public/a.png@webp")
    assert status == 200 and headers["Content-Type"] == "image/webp" and size_of(body) == (20, 15)
    status, body, headers = await fetch("/previews/q/raw:1/w:20/plain/abc-public/a.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and body == source


async def test_a_failed_render_is_answered_every_time_and_never_cached(client, put_file) -> None:  # type: ignore[no-untyped-def]
    data = encode_image(400, 300)
    put_file("cut.jpg", data[: len(data) // 2])
    url = "/previews/q/w:100/plain/abc-public/cut.jpg"
    for _ in range(2):
        response = await client.get(url)
        assert response.status == 422
        assert response.headers.get("X-Cache-Status") != "HIT"
    staging = client.server.app[SERVICES].caches.previews.bodies.staging_path("x").parent
    assert not [p for p in staging.iterdir() if ".render." in p.name]
