import shutil

from tests.conftest import metric_value

REQUIRED_METRICS = [
    "proxy_cache_requests_total",
    "proxy_cache_size_bytes",
    "proxy_storage_reads_total",
    "proxy_storage_read_bytes_total",
    "proxy_http_requests_total",
    "proxy_http_request_duration_seconds_bucket",
]


async def test_health_is_ok_when_it_can_serve(client):
    response = await client.get("/health")
    assert response.status == 200
    report = await response.json()
    assert report["status"] == "ok"
    assert report["storage"] == "ok"
    assert report["caches"] == {"storage": "ok", "previews": "ok", "image_converter": "ok"}


async def test_health_stays_200_when_the_store_is_gone_and_its_own_path_says_503(client, data_path):
    shutil.rmtree(data_path / "storage" / "abc-private")
    response = await client.get("/health")
    assert response.status == 200  # the node still serves what it holds: keep it balanced
    report = await response.json()
    assert report["status"] == "ok"
    assert "abc-private" in report["storage"]
    store = await client.get("/health/store")
    assert store.status == 503
    assert "abc-private" in (await store.json())["storage"]
    metrics = await (await client.get("/metrics")).text()
    assert "\nproxy_store_up 0.0\n" in metrics


async def test_the_store_path_is_200_when_the_store_answers(client):
    response = await client.get("/health/store")
    assert response.status == 200
    assert (await response.json())["storage"] == "ok"
    assert "\nproxy_store_up 1.0\n" in await (await client.get("/metrics")).text()


async def test_metrics_has_the_contract_names(client, put_file):
    put_file("a.jpg", b"abc")
    await (await client.get("/abc-public/a.jpg")).read()
    await (await client.get("/abc-public/a.jpg")).read()
    await (await client.get("/abc-public/missing.jpg")).read()
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    for name in REQUIRED_METRICS:
        assert name in text, name
    for cache in ("storage", "previews", "image_converter"):
        assert f'proxy_cache_size_bytes{{cache="{cache}"}}' in text
    assert metric_value(text, "proxy_cache_size_bytes", cache="storage") == 3
    assert metric_value(text, "proxy_http_requests_total", route="original", status="404") >= 1
    assert metric_value(text, "proxy_http_request_duration_seconds_count", route="original") >= 3
