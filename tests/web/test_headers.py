"""What every answer carries, and what an uploaded file a browser would run is given."""

import pytest

from proxy.web.headers import content_disposition, protect
from tests.conftest import encode_image


@pytest.fixture
async def served(make_client, make_settings, put_file):
    put_file("a.jpg", encode_image(64, 48))
    put_file("page.html", b"<html><script>alert(document.cookie)</script></html>")
    put_file("pic.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    put_file("feed.xml", b"<?xml version='1.0'?><x/>")
    put_file("code.js", b"alert(1)")
    return await make_client(make_settings())


async def test_every_answer_says_nosniff(served):
    paths = [
        "/abc-public/a.jpg",
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
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    etag = (await served.get("/abc-public/a.jpg")).headers["ETag"]
    not_modified = await served.get("/abc-public/a.jpg", headers={"If-None-Match": etag})
    assert not_modified.status == 304
    assert not_modified.headers["X-Content-Type-Options"] == "nosniff"
    head = await served.head("/abc-public/a.jpg")
    assert head.headers["X-Content-Type-Options"] == "nosniff"
    posted = await served.post("/abc-public/a.jpg")
    assert posted.status == 405 and posted.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["page.html", "pic.svg", "feed.xml", "code.js"])
async def test_an_upload_a_browser_would_run_is_sandboxed(served, name):
    response = await served.get(f"/abc-public/{name}")
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_an_image_is_not_sandboxed(served):
    response = await served.get("/abc-public/a.jpg")
    assert "Content-Security-Policy" not in response.headers


def test_protect_reads_the_type_without_its_parameters():
    headers = {"Content-Type": "text/html; charset=utf-8"}
    protect(headers)
    assert headers["Content-Security-Policy"] == "sandbox"


def test_a_file_name_can_never_break_a_header():
    value = content_disposition('evil"\r\nSet-Cookie: x=1\x01\x7fé.png', attachment=True)
    assert "\r" not in value and "\n" not in value and "\x01" not in value
    assert value.startswith('attachment; filename="evil_')
    assert "filename*=UTF-8''evil%22%0D%0ASet-Cookie" in value
