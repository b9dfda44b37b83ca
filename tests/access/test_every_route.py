"""The access rule over real HTTP: every route, every mode; refusals read nothing and say
nothing about objects; what is admitted is labelled for the caches in front."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from proxy import metrics
from proxy.access.signature import sign
from proxy.access.signed_query import sign_query
from proxy.web.app import ACCESS_LOG
from tests.access.auth_service import AuthService
from tests.conftest import BUCKET, encode_image, metric_value
from tests.converter.media import gradient16, tiff16, video
from tests.server_process import free_port

KEY, SALT = b"secret", b"hello"
SIGNED = {"SIGNATURE_KEY": KEY.hex(), "SIGNATURE_SALT": SALT.hex()}
TOKEN = "app-server-token-0123456789"
PREVIEW = f"/rs:fit:40:0/plain/{BUCKET}/img/a.jpg@png"
INFO = f"/size:1/dimensions:1/plain/{BUCKET}/img/a.jpg"
ORIGINAL = f"/{BUCKET}/img/a.jpg"
CONVERT = f"/image-converter/convert/{BUCKET}/img/deep.tiff"
FRAME = f"/image-converter/videoframe/50p/{BUCKET}/vid/v.mp4"
QUERY_ROUTES = {"original": ORIGINAL, "convert": CONVERT, "videoframe": FRAME}
COUNTED = ("proxy_storage_reads_total", "proxy_storage_heads_total", "proxy_cache_requests_total")


@pytest.fixture
def objects(put_file):  # type: ignore[no-untyped-def]
    put_file("img/a.jpg", encode_image(120, 90))
    put_file("img/deep.tiff", tiff16(gradient16(64, 8)))
    put_file("vid/v.mp4", video("mp4", "libx264", frames=8))


def signed_query(path: str, query: str = "", key: bytes = KEY, salt: bytes = SALT) -> str:
    return f"{path}?{sign_query(path, query, key, salt, 32)}"


def signed_preview(path: str = PREVIEW) -> str:
    return f"/previews/{sign(KEY, SALT, path)}{path}"


def signed_info(path: str = INFO) -> str:
    return f"/info/{sign(KEY, SALT, path)}{path}"


async def counts(client: TestClient) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {name: metric_value(text, name) for name in COUNTED}


async def refusals(client: TestClient) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {
        reason: metric_value(text, "proxy_access_refusals_total", reason=reason)
        for reason in metrics.ACCESS_REFUSAL_REASONS
    }


async def get(client: TestClient, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    response = await client.get(url, headers=headers)
    return response.status, await response.read(), dict(response.headers)


# -- signatures ------------------------------------------------------------------------------


@pytest.fixture
async def signed_client(make_client, make_settings, objects) -> TestClient:  # type: ignore[no-untyped-def]
    return await make_client(make_settings(**SIGNED, ACCESS_LOG="on"))


@pytest.mark.parametrize("route", QUERY_ROUTES)
async def test_query_signed_routes_serve_a_signed_url(signed_client, route):
    status, body, headers = await get(signed_client, signed_query(QUERY_ROUTES[route]))
    assert status == 200 and body
    assert headers["Cache-Control"] == "max-age=86400"  # signed URLs keep CACHE_CONTROL
    expires = int(time.time()) + 60
    status, _, _ = await get(signed_client, signed_query(QUERY_ROUTES[route], f"exp={expires}"))
    assert status == 200


async def test_the_preview_route_keeps_its_signature_segment(signed_client):
    status, body, _ = await get(signed_client, signed_preview())
    assert status == 200 and body.startswith(b"\x89PNG")
    # The preview's source is read through the storage cache: no signature needed for it.
    assert (await get(signed_client, f"/previews/_{PREVIEW}"))[0] == 403


async def test_the_info_route_is_signed_as_previews_are(signed_client):
    status, body, headers = await get(signed_client, signed_info())
    assert status == 200 and json.loads(body)["width"] == 120
    assert headers["Content-Type"].startswith("application/json")
    # A preview's signature does not sign the same path under /info, nor the other way.
    assert (await get(signed_client, f"/info/{sign(KEY, SALT, PREVIEW)}{INFO}"))[0] == 403
    status, body, _ = await get(signed_client, f"/info/{sign(KEY, SALT, '/x')}{INFO}")
    assert (status, body) == (403, b"invalid signature\n")


@pytest.mark.parametrize("route", [*QUERY_ROUTES, "preview", "legacy", "head", "info"])
async def test_every_route_refuses_what_is_not_signed_and_reads_nothing(signed_client, route):
    unsigned = {
        **QUERY_ROUTES,
        "preview": f"/previews/_{PREVIEW}",
        "info": f"/info/_{INFO}",
        "legacy": f"/previews/40x,png,q70/{BUCKET}/img/a.jpg",
        "head": ORIGINAL,
    }[route]
    before = await counts(signed_client)
    method = "HEAD" if route == "head" else "GET"
    response = await signed_client.request(method, unsigned)
    assert response.status == 403
    assert "X-Cache-Status" not in response.headers and "ETag" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert await counts(signed_client) == before


@pytest.mark.parametrize("route", QUERY_ROUTES)
async def test_a_signature_made_for_another_path_is_refused(signed_client, route):
    other = signed_query(f"/{BUCKET}/img/other.jpg")
    status, body, _ = await get(signed_client, QUERY_ROUTES[route] + "?" + other.split("?")[1])
    assert (status, body) == (403, b"invalid signature\n")


async def test_a_wrong_preview_signature_is_refused(signed_client):
    status, body, _ = await get(signed_client, f"/previews/{sign(KEY, SALT, '/x')}{PREVIEW}")
    assert (status, body) == (403, b"invalid signature\n")


@pytest.mark.parametrize("route", QUERY_ROUTES)
async def test_an_expired_url_is_refused_even_when_its_bytes_are_cached(signed_client, route):
    path = QUERY_ROUTES[route]
    valid = signed_query(path, f"exp={int(time.time()) + 3600}")
    assert (await get(signed_client, valid))[0] == 200
    assert (await get(signed_client, valid))[2]["X-Cache-Status"] == "HIT"
    before = await counts(signed_client)
    status, body, headers = await get(signed_client, signed_query(path, "exp=1000"))
    assert (status, body) == (403, b"expired\n")
    assert "X-Cache-Status" not in headers
    assert await counts(signed_client) == before


async def test_an_expired_preview_url_is_imgproxys_404(signed_client):
    path = f"/exp:1000{PREVIEW}"
    assert (await get(signed_client, f"/previews/{sign(KEY, SALT, path)}{path}"))[0] == 404


async def test_a_refusal_is_the_same_for_objects_that_exist_and_those_that_do_not(signed_client):
    answers = []
    for path in (ORIGINAL, f"/{BUCKET}/img/missing.jpg", "/no-such-bucket/x.jpg"):
        status, body, headers = await get(signed_client, path + "?sig=AAAA")
        answers.append((status, body, headers.get("Content-Type"), headers.get("Cache-Control")))
    assert answers[0] == answers[1] == answers[2] == (
        403, b"invalid signature\n", "text/plain; charset=utf-8", "no-store",
    )  # fmt: skip


async def test_the_signature_is_in_no_cache_key(signed_client):
    assert (await get(signed_client, signed_query(ORIGINAL)))[2]["X-Cache-Status"] == "MISS"
    later = signed_query(ORIGINAL, f"exp={int(time.time()) + 99}")
    assert (await get(signed_client, later))[2]["X-Cache-Status"] == "HIT"
    frame = signed_query(FRAME, "videoStreamIndex=0")
    assert (await get(signed_client, frame))[2]["X-Cache-Status"] == "MISS"
    assert (await get(signed_client, signed_query(FRAME)))[2]["X-Cache-Status"] == "HIT"


async def test_keys_rotate_on_originals_as_on_previews(make_client, make_settings, objects):
    client = await make_client(
        make_settings(
            SIGNATURE_KEY=f"{b'new'.hex()},{KEY.hex()}", SIGNATURE_SALT=f"01,{SALT.hex()}"
        )
    )
    assert (await get(client, signed_query(ORIGINAL)))[0] == 200  # the old pair
    assert (await get(client, signed_query(ORIGINAL, key=b"new", salt=b"\x01")))[0] == 200
    assert (await get(client, signed_query(ORIGINAL, key=b"gone", salt=b"\x02")))[0] == 403
    assert (await get(client, signed_preview()))[0] == 200


async def test_signature_scope_previews_keeps_the_old_behaviour(
    make_client, make_settings, objects
):
    client = await make_client(make_settings(**SIGNED, SIGNATURE_SCOPE="previews"))
    assert (await get(client, ORIGINAL))[0] == 200
    assert (await get(client, CONVERT))[0] == 200
    assert (await get(client, f"/previews/_{PREVIEW}"))[0] == 403


async def test_refusals_are_counted_by_reason_and_logged_without_the_signature(
    signed_client, capfd
):
    before = await refusals(signed_client)
    await get(signed_client, ORIGINAL)
    await get(signed_client, ORIGINAL + "?sig=Zm9vYmFyc2VjcmV0")
    await get(signed_client, signed_query(ORIGINAL, "exp=1000"))
    good = signed_query(ORIGINAL)
    await get(signed_client, good)
    after = await refusals(signed_client)
    assert {r: after[r] - before[r] for r in before if after[r] != before[r]} == {
        "no_signature": 1, "bad_signature": 1, "expired": 1,
    }  # fmt: skip
    signed_client.server.app[ACCESS_LOG].close()
    out = capfd.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    refused = [line.get("refused") for line in lines if line["path"].startswith(ORIGINAL)]
    assert refused == ["no_signature", "bad_signature", "expired", None]
    assert "Zm9vYmFyc2VjcmV0" not in out and good.split("sig=")[1] not in out


# -- the bearer secret -------------------------------------------------------------------------


@pytest.fixture
async def bearer_client(make_client, make_settings, objects) -> TestClient:  # type: ignore[no-untyped-def]
    return await make_client(make_settings(AUTH_BEARER_TOKEN=TOKEN, ACCESS_LOG="on"))


ALL_ROUTES = (
    ORIGINAL,
    CONVERT,
    FRAME,
    f"/previews/_{PREVIEW}",
    "/previews/40x,png,q70/" + ORIGINAL[1:],
    f"/info/_{INFO}",
)


@pytest.mark.parametrize("url", ALL_ROUTES)
async def test_with_a_bearer_every_route_needs_it(bearer_client, url):
    before = await counts(bearer_client)
    status, body, headers = await get(bearer_client, url)
    assert (status, body) == (401, b"bearer token required\n")
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, headers = await get(bearer_client, url, Authorization="Bearer wrong-token-123456789")
    assert status == 401 and "invalid_token" in headers["WWW-Authenticate"]
    assert await counts(bearer_client) == before
    status, _, headers = await get(bearer_client, url, Authorization=f"Bearer {TOKEN}")
    assert status == 200
    assert headers["Cache-Control"] == "private, max-age=86400"


async def test_health_and_metrics_need_no_bearer(bearer_client):
    assert (await get(bearer_client, "/health"))[0] == 200
    assert (await get(bearer_client, "/metrics"))[0] == 200


async def test_other_methods_need_the_bearer_too(bearer_client):
    assert (await bearer_client.post(ORIGINAL)).status == 401
    response = await bearer_client.post(ORIGINAL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 405


async def test_the_bearer_never_reaches_the_log(bearer_client, capfd):
    await get(bearer_client, ORIGINAL, Authorization=f"Bearer {TOKEN}")
    await get(bearer_client, ORIGINAL, Authorization="Bearer wrong-token-123456789")
    await get(bearer_client, ORIGINAL)
    bearer_client.server.app[ACCESS_LOG].close()
    out = capfd.readouterr()
    assert TOKEN not in out.out + out.err and "wrong-token" not in out.out + out.err
    lines = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    assert [line.get("refused") for line in lines] == [None, "bad_bearer", "no_bearer"]


async def test_an_operator_may_choose_the_cache_control(make_client, make_settings, objects):
    client = await make_client(
        make_settings(AUTH_BEARER_TOKEN=TOKEN, AUTH_CACHE_CONTROL="public, max-age=60")
    )
    headers = (await get(client, ORIGINAL, Authorization=f"Bearer {TOKEN}"))[2]
    assert headers["Cache-Control"] == "public, max-age=60"


async def test_bearer_and_signatures_both_hold(make_client, make_settings, objects):
    client = await make_client(make_settings(**SIGNED, AUTH_BEARER_TOKEN=TOKEN))
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (await get(client, signed_query(ORIGINAL)))[0] == 401
    assert (await get(client, ORIGINAL, **bearer))[0] == 403
    assert (await get(client, signed_query(ORIGINAL), **bearer))[0] == 200


# -- the auth service --------------------------------------------------------------------------


@pytest.fixture
async def auth() -> AsyncIterator[AuthService]:
    service = await AuthService().start()
    yield service
    await service.close()


@pytest.fixture
async def auth_client(make_client, make_settings, objects, auth) -> TestClient:  # type: ignore[no-untyped-def]
    return await make_client(make_settings(AUTH_REQUEST_URL=auth.url, ACCESS_LOG="on"))


@pytest.mark.parametrize("url", ALL_ROUTES)
async def test_the_auth_service_decides_every_route(auth_client, auth, url):
    before = await counts(auth_client)
    status, _, headers = await get(auth_client, url)
    assert (status, headers["WWW-Authenticate"]) == (401, 'Cookie realm="app"')
    assert (await get(auth_client, url, Cookie="session=bad"))[0] == 403
    assert await counts(auth_client) == before
    status, _, headers = await get(auth_client, url, Cookie="session=good")
    assert status == 200 and headers["Cache-Control"] == "private, max-age=86400"
    assert auth.asked[-1]["X-Original-URI"] == url
    assert auth.asked[-1]["X-Original-Method"] == "GET"


async def test_per_user_decisions_previews_yes_originals_no(auth_client):
    thumbs = {"Cookie": "session=thumbs"}
    assert (await get(auth_client, f"/previews/_{PREVIEW}", **thumbs))[0] == 200
    assert (await get(auth_client, ORIGINAL, **thumbs))[0] == 403


async def test_a_page_of_fifty_thumbnails_costs_one_call(
    make_client, make_settings, auth, put_file
):
    for number in range(50):
        put_file(f"page/{number}.jpg", encode_image(40, 30))
    client = await make_client(
        make_settings(AUTH_REQUEST_URL=auth.url, AUTH_REQUEST_SCOPE="credentials")
    )
    for number in range(50):
        url = f"/previews/_/rs:fit:20:0/plain/{BUCKET}/page/{number}.jpg"
        assert (await get(client, url, Cookie="session=good"))[0] == 200
    assert len(auth.asked) == 1


async def test_a_reload_of_the_page_costs_no_call(auth_client, auth):
    for _ in range(3):
        for url in ALL_ROUTES[:3]:
            assert (await get(auth_client, url, Cookie="session=good"))[0] == 200
    assert len(auth.asked) == 3


@pytest.mark.parametrize("failure", ["down", "500", "slow"])
async def test_the_auth_service_failing_is_a_503_never_an_allow(
    make_client, make_settings, objects, auth, failure
):
    url = auth.url
    if failure == "down":
        url = f"http://127.0.0.1:{free_port()}/check"
    elif failure == "500":
        auth.answer_with = 500
    else:
        import asyncio

        auth.gate = asyncio.Event()  # it never answers
    client = await make_client(make_settings(AUTH_REQUEST_URL=url, AUTH_REQUEST_TIMEOUT="300ms"))
    before, refused = await counts(client), await refusals(client)
    status, body, headers = await get(client, ORIGINAL, Cookie="session=good")
    assert status == 503 and headers["Retry-After"] and b"auth" in body
    assert await counts(client) == before
    assert (await refusals(client))["auth_unavailable"] == refused["auth_unavailable"] + 1
    if auth.gate is not None:
        auth.gate.set()


async def test_cookies_never_reach_the_log(auth_client, capfd):
    await get(auth_client, ORIGINAL, Cookie="session=good; csrf=topsecretcookie")
    await get(auth_client, ORIGINAL, Cookie="session=bad; csrf=topsecretcookie")
    auth_client.server.app[ACCESS_LOG].close()
    out = capfd.readouterr()
    assert "topsecretcookie" not in out.out + out.err
    lines = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    assert [line.get("refused") for line in lines] == [None, "auth_denied"]
