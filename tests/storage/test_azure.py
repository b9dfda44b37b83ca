"""Azure specifics: blobs larger than one SDK piece stream through in several requests."""

from __future__ import annotations

import os

from proxy.storage.azure import PIECE_SIZE
from tests.conftest import read_metric
from tests.storage.conftest import make_store


async def test_blob_of_several_pieces(request, make_settings, data_path, make_client):
    store = make_store("azure", request, make_settings, data_path)
    body = os.urandom(2 * PIECE_SIZE + 12345)
    store.put("videos/long.mp4", body)
    client = await make_client(store.settings(CACHE_MAX_OBJECT_SIZE="1m"))
    url = f"/{store.bucket}/videos/long.mp4"
    before = await read_metric(client, "proxy_storage_read_bytes_total", provider="azure")
    # Across a piece boundary, then the whole blob (too large to cache: streamed through).
    start = PIECE_SIZE - 100
    ranged = await client.get(url, headers={"Range": f"bytes={start}-{start + 199}"})
    assert ranged.status == 206
    assert await ranged.read() == body[start : start + 200]
    whole = await client.get(url)
    assert whole.status == 200
    assert whole.headers["Content-Length"] == str(len(body))
    assert await whole.read() == body
    after = await read_metric(client, "proxy_storage_read_bytes_total", provider="azure")
    assert after - before == 200 + len(body)
