"""The per-request time limit (proxy/web/deadline.py): it ends a slow answer, not a slow download."""

import asyncio
import os

import aiohttp

from tests.jobs.helpers import SPIN


async def test_an_answer_past_the_limit_is_a_504_at_the_limit(make_client, make_settings, put_file):
    # A conversion that never ends, with the converter's own limit far away: only the
    # request deadline can answer this one in time.
    put_file("scans/spin.tif", SPIN)
    settings = make_settings(REQUEST_TIMEOUT="300ms", CONVERTER_TIMEOUT="10m")
    client = await make_client(settings)
    response = await client.get(
        "/image-converter/convert/abc-public/scans/spin.tif",
        timeout=aiohttp.ClientTimeout(total=20),
    )
    assert response.status == 504
    assert (await response.text()).strip() == "timed out"
    # The deadline is the request's, not the server's: the next request gets its own.
    put_file("ok.bin", b"fine")
    assert await (await client.get("/abc-public/ok.bin")).read() == b"fine"


async def test_the_limit_covers_the_answer_not_a_slow_download(
    make_client, make_settings, put_file
):
    # Larger than what loopback's socket buffers take in at once, so the server is still
    # sending well after the limit.
    body = os.urandom(32 << 20)
    put_file("big.bin", body)
    client = await make_client(make_settings(REQUEST_TIMEOUT="200ms"))
    for _ in range(2):  # a miss (tailing the fill), then a hit (sendfile)
        response = await client.get("/abc-public/big.bin")
        assert response.status == 200
        received = bytearray()
        async for chunk in response.content.iter_chunked(1 << 20):
            received += chunk
            await asyncio.sleep(0.03)  # a slow client: ~1 s in all, past the limit
        assert bytes(received) == body
