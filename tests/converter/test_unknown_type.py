"""A file of no known type gets a 415 that does not pretend to know its type."""

from __future__ import annotations


async def test_a_text_file_is_415_without_a_made_up_type(client, put_file):
    put_file("docs/readme.txt", b"just some words, not an image\n" * 10)
    response = await client.get("/image-converter/convert/abc-public/docs/readme.txt")
    assert response.status == 415
    reason = (await response.text()).strip()
    assert reason == "unsupported type: not an image format the converter reads"
    assert "octet-stream" not in reason
