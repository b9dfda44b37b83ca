import json

from proxy.web.app import ACCESS_LOG
from proxy.web.middleware import loggable_path


async def test_one_access_line_per_request(make_client, make_settings, put_file, capfd):
    put_file("a/b.jpg", b"12345")
    client = await make_client(make_settings(ACCESS_LOG="on"))
    await (await client.get("/abc-public/a/b.jpg")).read()
    await (await client.get("/abc-public/a/b.jpg")).read()
    await (await client.get("/abc-public/nope")).read()
    client.server.app[ACCESS_LOG].close()  # write out what is buffered, and wait for it
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    assert len(lines) == 3
    first, second, missing = lines
    assert first["method"] == "GET" and first["path"] == "/abc-public/a/b.jpg"
    assert first["status"] == 200 and first["cache"] == "MISS" and first["bytes"] == 5
    assert second["cache"] == "HIT"
    assert missing["status"] == 404
    assert all(isinstance(line["ms"], float | int) for line in lines)


async def test_errors_are_short_lines_never_tracebacks(client):
    for path, status in (("/abc-public/a%00b", 400), ("/nope/x", 404), ("/abc-public/%ff", 400)):
        response = await client.get(path)
        text = await response.text()
        assert response.status == status
        assert len(text) < 200 and "Traceback" not in text
        assert response.headers["Content-Type"].startswith("text/plain")


def test_signatures_are_not_logged():
    class Request:
        def __init__(self, raw: str) -> None:
            from yarl import URL

            self.rel_url = URL(raw, encoded=True)

    signed = Request(
        "/previews/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8/rs:fit:300/plain/b/k.jpg"
    )
    assert loggable_path(signed) == "/previews/-/rs:fit:300/plain/b/k.jpg"  # type: ignore[arg-type]
    legacy = Request("/previews/300x,jpeg,q70/b/k.jpg")
    assert loggable_path(legacy) == "/previews/300x,jpeg,q70/b/k.jpg"  # type: ignore[arg-type]
    in_query = Request("/b/k.jpg?exp=1767225600&sig=oKfUtW34Dvo2&sigma=1")
    assert loggable_path(in_query) == "/b/k.jpg?exp=1767225600&sig=-&sigma=1"  # type: ignore[arg-type]
    first = Request("/image-converter/convert/b/k.jpg?sig=oKfUtW34Dvo2")
    assert loggable_path(first) == "/image-converter/convert/b/k.jpg?sig=-"  # type: ignore[arg-type]
