"""The rule that matters most, asserted through /metrics.

A preview whose source is in the storage cache never reads storage; concurrent requests
for previews of one missing object cause one storage read and one render per preview.
"""

import asyncio

from tests.conftest import encode_image, read_metric
from tests.previews.conftest import size_of


async def test_cached_source_makes_no_storage_read(client, put_file):
    put_file("images/cached.jpg", encode_image(320, 240))
    assert (await client.get("/abc-public/images/cached.jpg")).status == 200
    reads = await read_metric(client, "proxy_storage_reads_total")
    response = await client.get("/previews/q/rs:fill:100:100/plain/abc-public/images/cached.jpg")
    assert response.status == 200 and response.headers["X-Cache-Status"] == "MISS"
    assert size_of(await response.read()) == (100, 100)
    assert await read_metric(client, "proxy_storage_reads_total") == reads


async def test_concurrent_misses_read_once_and_render_once_per_preview(client, put_file):
    put_file("images/burst.jpg", encode_image(320, 240))
    reads = await read_metric(client, "proxy_storage_reads_total")
    renders = await read_metric(client, "proxy_renders_total")
    urls = [
        f"/previews/q/rs:fill:{w}:{w}/plain/abc-public/images/burst.jpg" for w in range(20, 70, 10)
    ]

    async def get(url: str) -> tuple[str, bytes]:
        response = await client.get(url)
        assert response.status == 200
        return url, await response.read()

    results = await asyncio.gather(*(get(urls[i % 5]) for i in range(50)))
    for url, body in results:
        side = int(url.split(":")[2])
        assert size_of(body) == (side, side)
    assert await read_metric(client, "proxy_storage_reads_total") == reads + 1
    assert await read_metric(client, "proxy_renders_total") == renders + 5
