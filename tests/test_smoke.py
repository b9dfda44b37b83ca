async def test_original_roundtrip(client, put_file, jpeg_bytes):
    put_file("images/a.jpg", jpeg_bytes)
    first = await client.get("/abc-public/images/a.jpg")
    assert first.status == 200
    assert await first.read() == jpeg_bytes
    assert first.headers["X-Cache-Status"] == "MISS"
    second = await client.get("/abc-public/images/a.jpg")
    assert await second.read() == jpeg_bytes
    assert second.headers["X-Cache-Status"] == "HIT"
