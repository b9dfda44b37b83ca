"""Cross-origin reads through the real app: CORS for web apps on other origins, CORP for
pages with COEP, preflights, and none of it on the operators' endpoints."""

from __future__ import annotations

import pytest

from proxy.web.cors import CrossOrigin, merge_vary
from tests.conftest import encode_image

APP = "http://app.example:8080"
OTHER = "https://evil.example"
IMAGES = [
    "/abc-public/a.jpg",
    "/previews/q/rs:fit:32:0/plain/abc-public/a.jpg",
    "/image-converter/convert/abc-public/a.jpg",
]
EXPOSED = {"x-cache-status", "etag", "content-disposition"}


def exposed(response) -> set[str]:
    raw = response.headers.get("Access-Control-Expose-Headers", "")
    return {name.strip().lower() for name in raw.split(",") if name.strip()}


def allow_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def varies_on(response, name: str) -> bool:
    return name.lower() in {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}


@pytest.fixture
def images(put_file):
    put_file("a.jpg", encode_image(64, 48))


@pytest.fixture
async def listed(images, make_client, make_settings):
    return await make_client(make_settings(CORS_ALLOW_ORIGIN=f"{APP}, https://b.example"))


@pytest.fixture
async def anyone(images, make_client, make_settings):
    return await make_client(make_settings(CORS_ALLOW_ORIGIN="*"))


@pytest.mark.parametrize("path", IMAGES)
async def test_a_listed_origin_may_read_an_image(listed, path):
    for method in ("GET", "HEAD"):
        response = await listed.request(method, path, headers={"Origin": APP})
        assert response.status == 200, await response.text()
        assert response.headers["Access-Control-Allow-Origin"] == APP
        assert response.headers["Timing-Allow-Origin"] == APP
        assert exposed(response) >= EXPOSED
        assert varies_on(response, "Origin")
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


async def test_a_cached_answer_says_the_same(listed):
    """The hit's head is made once per entry: it must still carry the asker's origin."""
    for origin in (APP, "https://b.example", APP):
        response = await listed.get(IMAGES[1], headers={"Origin": origin})
        assert response.headers["Access-Control-Allow-Origin"] == origin
    again = await listed.get(IMAGES[1], headers={"Origin": OTHER})
    assert "Access-Control-Allow-Origin" not in again.headers
    assert varies_on(again, "Origin") and varies_on(again, "Accept") is varies_on(
        response, "Accept"
    )


async def test_an_origin_not_listed_is_served_without_cors(listed):
    for headers in ({"Origin": OTHER}, {}):
        response = await listed.get(IMAGES[0], headers=headers)
        assert response.status == 200
        assert allow_headers(response) == {}
        assert "Timing-Allow-Origin" not in response.headers
        assert varies_on(response, "Origin")  # what it gets depends on who asks
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


async def test_any_origin_gets_the_same_answer_without_vary(anyone):
    response = await anyone.get(IMAGES[1], headers={"Origin": OTHER})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Timing-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert exposed(response) >= EXPOSED
    assert not varies_on(response, "Origin")


async def test_off_by_default_but_corp_is_sent(images, client):
    response = await client.get(IMAGES[0], headers={"Origin": APP})
    assert allow_headers(response) == {} and not varies_on(response, "Origin")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    preflight = await client.options(
        IMAGES[0], headers={"Origin": APP, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 405 and allow_headers(preflight) == {}


async def test_the_resource_policy_is_a_setting(images, make_client, make_settings):
    client = await make_client(make_settings(CROSS_ORIGIN_RESOURCE_POLICY="same-site"))
    response = await client.get(IMAGES[0])
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-site"


async def test_an_error_of_an_image_route_is_readable_by_the_app(listed):
    response = await listed.get("/abc-public/missing.jpg", headers={"Origin": APP})
    assert response.status == 404
    assert response.headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize("path", [*IMAGES, "/abc-public/missing.jpg"])
async def test_a_preflight_from_a_listed_origin_is_answered(listed, path):
    response = await listed.options(
        path,
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range, if-none-match, x-made-up",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert response.headers["Access-Control-Allow-Headers"] == "range, if-none-match"
    assert response.headers["Access-Control-Max-Age"]
    assert varies_on(response, "Origin")


async def test_a_preflight_from_an_origin_not_listed_gets_no_allow_headers(listed):
    response = await listed.options(
        IMAGES[0], headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"}
    )
    assert response.status == 204 and allow_headers(response) == {}
    # ... and the request itself is served as before.
    assert (await listed.get(IMAGES[0], headers={"Origin": OTHER})).status == 200


async def test_a_preflight_for_a_method_that_is_not_read_allows_nothing(listed):
    response = await listed.options(
        IMAGES[0], headers={"Origin": APP, "Access-Control-Request-Method": "DELETE"}
    )
    assert allow_headers(response) == {}


async def test_an_options_that_is_not_a_preflight_is_refused_as_before(listed):
    assert (await listed.options(IMAGES[0])).status == 405
    assert (await listed.options(IMAGES[0], headers={"Origin": APP})).status == 405


@pytest.mark.parametrize("path", ["/health", "/health/store", "/metrics", "/admin/purge"])
async def test_not_on_the_operators_endpoints(images, make_client, make_settings, path):
    client = await make_client(
        make_settings(CORS_ALLOW_ORIGIN="*", ADMIN_TOKEN="0123456789abcdef0123456789abcdef")
    )
    method = "POST" if path.startswith("/admin") else "GET"
    response = await client.request(method, path, headers={"Origin": APP})
    assert allow_headers(response) == {} and "Timing-Allow-Origin" not in response.headers
    assert "Cross-Origin-Resource-Policy" not in response.headers
    preflight = await client.options(
        path, headers={"Origin": APP, "Access-Control-Request-Method": method}
    )
    assert allow_headers(preflight) == {}


def test_vary_lists_are_joined():
    headers = {"Vary": "Accept"}
    merge_vary(headers, CrossOrigin((APP,), "cross-origin").headers(APP))
    assert headers["Vary"] == "Accept, Origin"
