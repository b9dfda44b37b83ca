"""`/info` of an uncached original in S3 (moto): only its header is read, in one ranged GET.

moto's request log (werkzeug's) has a line per request with its status: a ranged GET is
answered 206, a whole-object GET 200.
"""

from __future__ import annotations

import json
import re

import pytest
import pyvips
from aiohttp.test_utils import TestClient

from tests.storage.conftest import (  # noqa: F401 - the session server, shared with tests/storage
    Store,
    make_store,
    moto_server,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    """A 50+ MB JPEG (noise at quality 100): a real one, not padding after a small one."""
    bands = [pyvips.Image.gaussnoise(4000, 3500, sigma=80, mean=128, seed=s) for s in (1, 2, 3)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    data = bytes(image.jpegsave_buffer(Q=100, subsample_mode="off"))
    assert len(data) > 50_000_000
    return data


def gets(log: str, key: str) -> list[str]:
    """The statuses of GETs of `key` in moto's log (werkzeug colours some lines)."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", log)
    return re.findall(rf'"GET /[^/ ]+/{re.escape(key)}(?:\?[^" ]*)? HTTP/1\.1" (\d{{3}})', log)


async def bytes_read(client: TestClient) -> float:
    """proxy_storage_read_bytes_total, summed over its labels."""
    text = await (await client.get("/metrics")).text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("proxy_storage_read_bytes_total{")
    )


@pytest.fixture
def s3(request, make_settings, data_path) -> Store:  # type: ignore[no-untyped-def]
    return make_store("minio", request, make_settings, data_path)


async def test_dimensions_of_an_uncached_50mb_jpeg_cost_one_ranged_get(
    s3: Store,
    big_jpeg: bytes,
    make_client,
    moto_server,  # noqa: F811
):
    s3.put("big.jpg", big_jpeg)
    client = await make_client(s3.settings(PREVIEWS_MAX_SRC_FILE_SIZE="100m"))
    before = len(gets(moto_server.log.read_text(), "big.jpg"))
    read_before = await bytes_read(client)
    response = await client.get(f"/info/_/d:1/plain/{s3.bucket}/big.jpg")
    body = json.loads(await response.text())
    assert response.status == 200, body
    assert (body["width"], body["height"], body["size"]) == (4000, 3500, len(big_jpeg))
    statuses = gets(moto_server.log.read_text(), "big.jpg")[before:]
    assert statuses == ["206"]  # one ranged GET, no whole-object GET
    # The counter is the process's: what this request read is its growth.
    assert await bytes_read(client) - read_before <= 64 * 1024


async def test_a_hash_of_every_byte_reads_the_object_once_into_the_storage_cache(
    s3: Store,
    make_client,
    moto_server,  # noqa: F811
):
    from tests.conftest import encode_image

    data = encode_image(640, 480)
    s3.put("small.jpg", data)
    client = await make_client(s3.settings())
    before = len(gets(moto_server.log.read_text(), "small.jpg"))
    for options in ("chs:md5", "d:1", "bh:3:3", "d:0/s:1"):
        response = await client.get(f"/info/_/{options}/plain/{s3.bucket}/small.jpg")
        assert response.status == 200, await response.text()
    assert gets(moto_server.log.read_text(), "small.jpg")[before:] == ["200"]
