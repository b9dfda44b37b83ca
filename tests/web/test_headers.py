"""What every answer carries, and what an uploaded file a browser would run is given."""

import pytest

from proxy.web.headers import Stamp, content_disposition
from tests.conftest import encode_image

BIG = 600_000  # past delivery's SMALL_BODY: sent from the file with sendfile


@pytest.fixture
async def served(make_client, make_settings, put_file):
    put_file("a.jpg", encode_image(64, 48))
    put_file("page.html", b"<html><script>alert(document.cookie)</script></html>")
    put_file("pic.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    put_file("feed.xml", b"<?xml version='1.0'?><x/>")
    put_file("code.js", b"alert(1)")
    put_file("big.bin", bytes(BIG))
    put_file("huge.bin", bytes(3 << 20))  # past CACHE_MAX_OBJECT_SIZE: streamed through
    return await make_client(make_settings(NODE_NAME="node-a", CACHE_MAX_OBJECT_SIZE="2m"))


def carries_what_every_answer_does(response, what: str) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["X-Served-By"] == "node-a", what


async def test_every_answer_says_nosniff_and_which_node_answered(served):
    paths = [
        "/abc-public/a.jpg",
        "/abc-public/big.bin",
        "/abc-public/big.bin",  # again: now a hit, from the cache's file
        "/abc-public/huge.bin",
        "/previews/q/rs:fit:32:0/plain/abc-public/a.jpg",
        "/image-converter/convert/abc-public/a.jpg",
        "/abc-public/missing.jpg",
        "/abc-public/%ff",
        "/previews/q/rs:nope/plain/abc-public/a.jpg",
        "/health",
        "/metrics",
    ]
    for path in paths:
        response = await served.get(path)
        await response.read()
        carries_what_every_answer_does(response, path)
    etag = (await served.get("/abc-public/a.jpg")).headers["ETag"]
    not_modified = await served.get("/abc-public/a.jpg", headers={"If-None-Match": etag})
    assert not_modified.status == 304
    carries_what_every_answer_does(not_modified, "304")
    part = await served.get("/abc-public/big.bin", headers={"Range": "bytes=10-300000"})
    assert part.status == 206 and len(await part.read()) == 299_991
    carries_what_every_answer_does(part, "206")
    unsatisfiable = await served.get("/abc-public/big.bin", headers={"Range": f"bytes={BIG}-"})
    assert unsatisfiable.status == 416
    carries_what_every_answer_does(unsatisfiable, "416")
    head = await served.head("/abc-public/a.jpg")
    carries_what_every_answer_does(head, "HEAD")
    posted = await served.post("/abc-public/a.jpg")
    assert posted.status == 405
    carries_what_every_answer_does(posted, "POST")


@pytest.mark.parametrize("name", ["page.html", "pic.svg", "feed.xml", "code.js"])
async def test_an_upload_a_browser_would_run_is_sandboxed(served, name):
    response = await served.get(f"/abc-public/{name}")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_image_is_not_sandboxed(served):
    response = await served.get("/abc-public/a.jpg")
    assert "Content-Security-Policy" not in response.headers


def test_the_stamp_reads_the_type_without_its_parameters():
    headers = {"Content-Type": "text/html; charset=utf-8"}
    Stamp("n").apply(headers)
    assert headers["Content-Security-Policy"] == "sandbox"


def test_a_file_name_can_never_break_a_header():
    value = content_disposition('evil"\r\nSet-Cookie: x=1\x01\x7fé.png', attachment=True)
    assert "\r" not in value and "\n" not in value and "\x01" not in value
    assert value.startswith('attachment; filename="evil_')
    assert "filename*=UTF-8''evil%22%0D%0ASet-Cookie" in value
