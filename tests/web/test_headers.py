"""What every answer carries: the node, nosniff, a sandbox; and what keeps an uploaded file
that is not an image or a video from opening as a page."""

import pytest

from proxy.web.headers import SANDBOX, Stamp, content_disposition
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
    assert response.headers["Content-Security-Policy"] == SANDBOX, what


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


# Types a browser may run, or show as a page, by its own rule (Firefox treats every +xml type
# as XML; an uploader may set any type on an S3 or Azure object): the deny-list's holes.
OTHER_TYPES = [
    "page.html", "feed.xml", "code.js", "a.atom", "a.rss", "a.rdf", "a.mml", "a.xsl",
    "a.mht", "a.pdf", "a.txt", "big.bin",
]  # fmt: skip


@pytest.mark.parametrize("name", OTHER_TYPES)
async def test_anything_but_an_image_or_a_video_is_a_sandboxed_download(served, put_file, name):
    if not name.startswith(("page", "feed", "code", "big")):
        put_file(name, b"<x xmlns='http://www.w3.org/1999/xhtml'><script>alert(1)</script></x>")
    response = await served.get(f"/abc-public/{name}")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == SANDBOX
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    head = await served.head(f"/abc-public/{name}")
    assert head.headers["Content-Disposition"] == "attachment"


@pytest.mark.parametrize(
    "path",
    [
        "/abc-public/a.jpg",
        "/abc-public/pic.svg",  # an image: inline, its scripts held by the sandbox
        "/previews/q/rs:fit:32:0/plain/abc-public/a.jpg",
        "/image-converter/convert/abc-public/a.jpg",
    ],
)
async def test_an_image_is_inline_and_sandboxed(served, path):
    response = await served.get(path)
    assert response.status == 200
    assert "Content-Disposition" not in response.headers
    assert response.headers["Content-Security-Policy"] == SANDBOX


def test_the_stamp_reads_the_type_without_its_parameters():
    headers = {"Content-Type": "IMAGE/PNG; charset=utf-8"}
    Stamp("n").apply_body(headers)
    assert "Content-Disposition" not in headers
    headers = {"Content-Type": "text/html; charset=utf-8"}
    Stamp("n").apply_body(headers)
    assert headers["Content-Disposition"] == "attachment"


def test_a_file_name_can_never_break_a_header():
    value = content_disposition('evil"\r\nSet-Cookie: x=1\x01\x7fé.png', attachment=True)
    assert "\r" not in value and "\n" not in value and "\x01" not in value
    assert value.startswith('attachment; filename="evil_')
    assert "filename*=UTF-8''evil%22%0D%0ASet-Cookie" in value
