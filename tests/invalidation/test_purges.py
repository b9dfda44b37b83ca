"""Purges as the admin API and events ask for them, against the real caches over local disk:
an object with what was made from it, prefixes that stop at a bucket's name, everything only
when asked, and events for buckets this node does not serve."""

from __future__ import annotations

import pytest

from proxy.errors import BadRequest, NotFound
from proxy.invalidation.events import CHANGED, DELETED, PREFIX_DELETED, Change
from proxy.web.app import SERVICES
from tests.conftest import encode_image

PREVIEW = "/previews/q/rs:fit:50:0/plain/{bucket}/{key}"


@pytest.fixture
async def served(data_path, make_settings, make_client):  # type: ignore[no-untyped-def]
    """A client over three buckets, `abc-public2` named to catch a prefix that runs on."""
    (data_path / "storage" / "abc-public2").mkdir()
    for bucket in ("abc-public", "abc-public2"):
        for key in ("a.jpg", "dir/b.jpg"):
            path = data_path / "storage" / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(encode_image(80, 60))
    client = await make_client(make_settings())
    return client, client.app[SERVICES].invalidation


async def fill(client, bucket: str, key: str) -> None:  # type: ignore[no-untyped-def]
    for url in (f"/{bucket}/{key}", PREVIEW.format(bucket=bucket, key=key)):
        assert (await client.get(url)).status == 200


async def status(client, bucket: str, key: str) -> str:  # type: ignore[no-untyped-def]
    response = await client.get(f"/{bucket}/{key}")
    return response.headers["X-Cache-Status"]


async def test_an_object_goes_with_its_previews_and_nothing_else(served) -> None:
    client, invalidation = served
    for key in ("a.jpg", "dir/b.jpg"):
        await fill(client, "abc-public", key)
    purged = await invalidation.purge_object("abc-public", "a.jpg", "api")
    assert purged == 2  # the original and its preview
    assert await status(client, "abc-public", "a.jpg") == "MISS"
    assert await status(client, "abc-public", "dir/b.jpg") == "HIT"
    preview = await client.get(PREVIEW.format(bucket="abc-public", key="a.jpg"))
    assert preview.headers["X-Cache-Status"] == "MISS"


async def test_a_bucket_prefix_stops_at_the_bucket_name(served) -> None:
    client, invalidation = served
    for bucket in ("abc-public", "abc-public2"):
        await fill(client, bucket, "a.jpg")
    assert await invalidation.purge_prefix("abc-public", "api") == 2
    assert await status(client, "abc-public", "a.jpg") == "MISS"
    assert await status(client, "abc-public2", "a.jpg") == "HIT"


async def test_a_folder_prefix_takes_what_is_under_it(served) -> None:
    client, invalidation = served
    for key in ("a.jpg", "dir/b.jpg"):
        await fill(client, "abc-public", key)
    assert await invalidation.purge_prefix("abc-public/dir/", "api") == 2
    assert await status(client, "abc-public", "dir/b.jpg") == "MISS"
    assert await status(client, "abc-public", "a.jpg") == "HIT"


async def test_everything_only_when_asked(served) -> None:
    client, invalidation = served
    await fill(client, "abc-public", "a.jpg")
    for prefix in ("", "/"):
        with pytest.raises(BadRequest, match="all=true"):
            await invalidation.purge_prefix(prefix, "api")
    assert await status(client, "abc-public", "a.jpg") == "HIT"
    assert await invalidation.purge_prefix("", "api", everything=True) == 2
    assert await status(client, "abc-public", "a.jpg") == "MISS"


async def test_a_bucket_not_served_is_not_found(served) -> None:
    _, invalidation = served
    with pytest.raises(NotFound):
        await invalidation.purge_object("elsewhere", "a.jpg", "api")
    with pytest.raises(NotFound):
        await invalidation.purge_prefix("elsewhere/", "api")


async def test_events_purge_what_changed_and_ignore_unserved_buckets(served) -> None:
    client, invalidation = served
    for key in ("a.jpg", "dir/b.jpg"):
        await fill(client, "abc-public", key)
    await fill(client, "abc-public2", "a.jpg")
    changes = [
        Change("abc-public", "a.jpg", CHANGED),
        Change("abc-public2", "a.jpg", DELETED),
        Change("abc-public", "dir/", PREFIX_DELETED),
        Change("elsewhere", "a.jpg", CHANGED),
    ]
    purged, ignored = await invalidation.apply(changes)
    assert (purged, ignored) == (6, 1)
    assert await status(client, "abc-public", "a.jpg") == "MISS"
    assert await status(client, "abc-public", "dir/b.jpg") == "MISS"
    assert await status(client, "abc-public2", "a.jpg") == "MISS"
