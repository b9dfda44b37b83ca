"""The admin API: purges and the stores' events, behind ADMIN_TOKEN, over real HTTP."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp import web

from tests.conftest import encode_image, read_metric
from tests.invalidation.test_events import cloud_event, event_grid, s3_record

TOKEN = "admin-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PREVIEW = "/previews/q/rs:fit:50:0/plain/abc-public/{key}"


@pytest.fixture
async def admin(make_client, make_settings):  # type: ignore[no-untyped-def]
    return await make_client(make_settings(ADMIN_TOKEN=TOKEN))


async def status_of(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(url)
    await response.read()
    return response.status, response.headers.get("X-Cache-Status", "-")


async def cached(client, put_file, *keys: str) -> None:  # type: ignore[no-untyped-def]
    for key in keys:
        put_file(key, encode_image(80, 60))
        for url in (f"/abc-public/{key}", PREVIEW.format(key=key)):
            assert await status_of(client, url) == (200, "MISS")
            assert await status_of(client, url) == (200, "HIT")


async def test_without_a_token_the_api_does_not_exist(client, put_file):
    await cached(client, put_file, "a.jpg")
    for path in (
        "/admin/purge/abc-public/a.jpg",
        "/admin/purge?prefix=abc-public/",
        "/admin/events",
    ):
        response = await client.post(path, headers=AUTH)
        assert response.status == 405, path
    assert await status_of(client, "/abc-public/a.jpg") == (200, "HIT")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", "Basic abc"])
async def test_no_token_or_a_wrong_one_is_401_and_drops_nothing(
    admin, put_file, caplog, authorization
):
    await cached(admin, put_file, "a.jpg")
    headers = {} if authorization is None else {"Authorization": authorization}
    caplog.set_level(logging.DEBUG)
    for path in ("/admin/purge/abc-public/a.jpg", "/admin/purge?prefix=abc-public/&all=true"):
        response = await admin.post(path, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = json.dumps({"Records": [s3_record("ObjectRemoved:Delete", "abc-public", "a.jpg")]})
    assert (await admin.post("/admin/events", data=body, headers=headers)).status == 401
    assert await status_of(admin, "/abc-public/a.jpg") == (200, "HIT")
    assert TOKEN not in caplog.text and "wrong-token" not in caplog.text


async def test_one_object_with_what_was_made_from_it_and_nothing_else(admin, put_file):
    await cached(admin, put_file, "a.jpg", "a.jpg2", "b.jpg")
    api = await read_metric(admin, "proxy_purges_total", origin="api")
    response = await admin.post("/admin/purge/abc-public/a.jpg", headers=AUTH)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.json() == {"purged": 2, "object": "abc-public/a.jpg"}
    assert await status_of(admin, "/abc-public/a.jpg") == (200, "MISS")
    assert await status_of(admin, PREVIEW.format(key="a.jpg")) == (200, "MISS")
    for key in ("a.jpg2", "b.jpg"):  # an exact name, not a prefix
        assert await status_of(admin, f"/abc-public/{key}") == (200, "HIT")
    assert await read_metric(admin, "proxy_purges_total", origin="api") == api + 1


async def test_a_prefix_and_everything_only_when_asked(admin, put_file):
    await cached(admin, put_file, "x/1.jpg", "x/2.jpg", "y/3.jpg")
    response = await admin.post("/admin/purge?prefix=abc-public/x/", headers=AUTH)
    assert await response.json() == {"purged": 4, "prefix": "abc-public/x/"}
    assert await status_of(admin, "/abc-public/y/3.jpg") == (200, "HIT")
    for prefix in ("", "/"):
        refused = await admin.post(f"/admin/purge?prefix={prefix}", headers=AUTH)
        assert refused.status == 400
        assert "all=true" in await refused.text()
    assert await status_of(admin, "/abc-public/y/3.jpg") == (200, "HIT")
    everything = await admin.post("/admin/purge?prefix=&all=true", headers=AUTH)
    assert (await everything.json())["purged"] == 2
    assert await status_of(admin, "/abc-public/y/3.jpg") == (200, "MISS")


async def test_what_is_not_served_is_404_and_a_bad_cache_400(admin):
    for path in ("/admin/purge/nowhere/a.jpg", "/admin/purge?prefix=nowhere/"):
        assert (await admin.post(path, headers=AUTH)).status == 404, path
    bad = await admin.post("/admin/purge?prefix=abc-public/&cache=disk", headers=AUTH)
    assert bad.status == 400


async def test_s3_and_minio_events_purge_what_changed(admin, put_file):
    await cached(admin, put_file, "a b.jpg", "c.jpg")
    event = read_metric(admin, "proxy_purges_total", origin="event")
    before = await event
    body = {
        "EventName": "s3:ObjectCreated:Put",
        "Records": [
            s3_record("s3:ObjectCreated:Put", "abc-public", "a+b.jpg"),
            s3_record("ObjectCreated:Put", "elsewhere", "c.jpg"),  # not served here: ignored
        ],
    }
    response = await admin.post("/admin/events", json=body, headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"changes": 2, "purged": 2, "ignored": 1}
    assert await status_of(admin, "/abc-public/a b.jpg") == (200, "MISS")
    assert await status_of(admin, "/abc-public/c.jpg") == (200, "HIT")
    assert await read_metric(admin, "proxy_purges_total", origin="event") == before + 1


async def test_a_deleted_blob_event_leaves_a_404(admin, put_file, data_path):
    await cached(admin, put_file, "gone.jpg")
    (data_path / "storage" / "abc-public" / "gone.jpg").unlink()
    events = [cloud_event("Microsoft.Storage.BlobDeleted", "abc-public", "gone.jpg")]
    response = await admin.post("/admin/events", json=events, headers=AUTH)
    assert (await response.json())["purged"] == 2
    assert (await status_of(admin, "/abc-public/gone.jpg"))[0] == 404
    assert (await status_of(admin, PREVIEW.format(key="gone.jpg")))[0] == 404


async def test_event_grid_validation_is_answered_and_its_url_never_fetched(admin, aiohttp_server):
    fetched = []

    async def validation_url(request: web.Request) -> web.Response:
        fetched.append(request.path)
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", validation_url)
    server = await aiohttp_server(app)
    validation = {
        "id": "2d1781af",
        "topic": "/subscriptions/x",
        "subject": "",
        "data": {"validationCode": "code-512d38b6", "validationUrl": str(server.make_url("/v"))},
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2018-01-25T22:12:19.4556811Z",
        "metadataVersion": "1",
        "dataVersion": "1",
    }
    response = await admin.post("/admin/events", json=[validation], headers=AUTH)
    assert response.status == 200
    assert await response.json() == {"validationResponse": "code-512d38b6"}
    assert fetched == []


async def test_the_cloud_events_handshake(admin):
    origin = "eventgrid.azure.net"
    response = await admin.options("/admin/events", headers={"WebHook-Request-Origin": origin})
    assert response.status == 200
    assert response.headers["WebHook-Allowed-Origin"] == origin
    assert (await admin.options("/admin/events")).status == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{", 400),
        (json.dumps([event_grid("Contoso.Items.ItemSold", "abc-public", "a.jpg")]).encode(), 400),
        (json.dumps({"Records": [s3_record("x", "b", "k")] * 8000}).encode(), 413),
    ],
    ids=["malformed", "unknown type", "over 1 MiB"],
)
async def test_bad_events_are_refused_with_a_reason_and_drop_nothing(admin, put_file, body, status):
    await cached(admin, put_file, "a.jpg")
    response = await admin.post("/admin/events", data=body, headers=AUTH)
    assert response.status == status
    assert (await response.text()).strip()
    assert await status_of(admin, "/abc-public/a.jpg") == (200, "HIT")
