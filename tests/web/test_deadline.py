import asyncio
import os


async def test_the_limit_covers_the_answer_not_a_slow_download(
    make_client, make_settings, put_file
):
    body = os.urandom(8 << 20)
    put_file("big.bin", body)
    client = await make_client(make_settings(REQUEST_TIMEOUT="200ms"))
    for _ in range(2):  # a miss (tailing the fill), then a hit (sendfile)
        response = await client.get("/abc-public/big.bin")
        assert response.status == 200
        received = bytearray()
        async for chunk in response.content.iter_chunked(256 * 1024):
            received += chunk
            await asyncio.sleep(0.02)  # a slow client: ~0.6 s in all, past the limit
        assert bytes(received) == body
