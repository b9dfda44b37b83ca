"""The routes: which name each path and method is counted under, and what it answers."""

from __future__ import annotations

import pytest

from proxy.errors import BadRequest, NotFound
from proxy.web.routes import split_object_path
from tests.conftest import metric_value, read_metric


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/health", "health", 200),
        ("HEAD", "/health", "health", 200),
        ("GET", "/metrics", "metrics", 200),
        ("HEAD", "/metrics", "original", 404),  # /metrics has no HEAD: an object path then
        ("GET", "/abc-public/r/a.txt", "original", 200),
        ("HEAD", "/abc-public/r/a.txt", "original", 200),
        ("GET", "/abc-public/r/none.txt", "original", 404),
        ("GET", "/previews/insecure/rs:fit:10:10/plain/abc-public/r/a.txt", "preview", 415),
        ("GET", "/image-converter/abc-public/r/a.txt?format=bogus", "image_converter", 400),
        ("POST", "/abc-public/r/a.txt", "original", 405),
        ("PUT", "/health", "original", 405),
        ("DELETE", "/previews/x", "original", 405),
        ("OPTIONS", "/", "preflight", 405),  # not a preflight: refused as before
    ],
)
async def test_each_route_and_method(client, put_file, method, path, route, status):
    put_file("r/a.txt", b"hello")
    before = await read_metric(client, "proxy_http_requests_total", route=route, status=str(status))
    response = await client.request(method, path)
    await response.read()
    assert response.status == status, await response.text()
    if status == 405:
        assert response.headers["Allow"] == "GET,HEAD"
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # every answer, every route
    text = await (await client.get("/metrics")).text()
    counted = metric_value(text, "proxy_http_requests_total", route=route, status=str(status))
    # The /metrics request itself counts once under "metrics", 200.
    assert counted == before + 1 + (route == "metrics" and status == 200)


async def test_the_health_and_metrics_answers(client):
    health = await client.get("/health")
    assert health.content_type == "application/json" and (await health.json())["status"] == "ok"
    head = await client.head("/health")
    assert head.status == 200 and await head.read() == b""
    scrape = await client.get("/metrics")
    assert scrape.headers["Content-Type"].startswith("text/plain; version=")
    assert "proxy_http_requests_total" in await scrape.text()


@pytest.mark.parametrize(
    ("raw", "bucket", "key"),
    [
        ("/b/k.jpg", "b", "k.jpg"),
        ("/b/a/b/c.jpg", "b", "a/b/c.jpg"),
        ("/b/caf%C3%A9%20au%20lait.jpg", "b", "café au lait.jpg"),
        ("/b/%252e%252e/x", "b", "%2e%2e/x"),  # decoded exactly once
        ("/my%2Dbucket/k", "my-bucket", "k"),
        ("/b/a%2Fb", "b", "a/b"),
    ],
)
def test_object_paths_split_into_bucket_and_key(raw, bucket, key):
    assert split_object_path(raw) == (bucket, key)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("/", NotFound),
        ("/b", NotFound),
        ("/b/", NotFound),
        ("/b/folder/", NotFound),  # no listings
        ("/b/%ff.jpg", BadRequest),
        ("/b/a%00.jpg", BadRequest),
    ],
)
def test_paths_that_name_no_object(raw, error):
    with pytest.raises(error):
        split_object_path(raw)
