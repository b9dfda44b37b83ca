"""Source and result limits through HTTP: short answers with the right status."""

from tests.conftest import encode_image
from tests.previews.conftest import fetcher, png_declaring, size_of


async def test_source_over_the_file_size_limit_is_413(make_client, make_settings, put_file):
    put_file("big.jpg", encode_image(300, 300))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SRC_FILE_SIZE="1k")))
    status, body, _ = await fetch("/previews/q/w:10/plain/abc-public/big.jpg")
    assert status == 413 and b"limit" in body


async def test_uncacheable_source_is_spooled(make_client, make_settings, put_file):
    # Larger than the storage cache takes, within the preview source limit.
    put_file("big.jpg", encode_image(300, 300))
    fetch = fetcher(await make_client(make_settings(CACHE_MAX_OBJECT_SIZE="1k")))
    status, body, _ = await fetch("/previews/q/w:30/plain/abc-public/big.jpg@png")
    assert status == 200 and size_of(body) == (30, 30)


async def test_uncacheable_source_over_the_limit_is_413(make_client, make_settings, put_file):
    put_file("big.jpg", encode_image(300, 300))
    settings = make_settings(CACHE_MAX_OBJECT_SIZE="1k", PREVIEWS_MAX_SRC_FILE_SIZE="2k")
    fetch = fetcher(await make_client(settings))
    status, _, _ = await fetch("/previews/q/w:30/plain/abc-public/big.jpg")
    assert status == 413


async def test_huge_declared_resolution_is_422(fetch, put_file):
    put_file("bomb.png", png_declaring(30000, 30000))
    status, body, _ = await fetch("/previews/q/w:10/plain/abc-public/bomb.png")
    assert status == 422 and b"resolution" in body


async def test_resolution_setting(make_client, make_settings, put_file):
    put_file("photo.jpg", encode_image(1000, 1000))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SRC_RESOLUTION="0.5")))
    assert (await fetch("/previews/q/w:10/plain/abc-public/photo.jpg"))[0] == 422


async def test_not_an_image_is_415(fetch, put_file):
    put_file("notes.txt", b"just some text, not an image at all\n" * 20)
    status, body, _ = await fetch("/previews/q/w:10/plain/abc-public/notes.txt")
    assert status == 415 and b"not an image" in body


async def test_truncated_image_is_422(fetch, put_file):
    data = encode_image(400, 300)
    put_file("cut.jpg", data[: len(data) // 2])
    status, body, _ = await fetch("/previews/q/w:100/plain/abc-public/cut.jpg")
    assert status == 422 and len(body) < 100


async def test_result_over_the_dimension_limit_is_scaled_down(make_client, make_settings, put_file):
    put_file("photo.jpg", encode_image(64, 48))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_RESULT_DIMENSION="100")))
    status, body, _ = await fetch("/previews/q/rs:fit:500:500:1/plain/abc-public/photo.jpg")
    assert status == 200 and size_of(body) == (100, 75)
    status, body, _ = await fetch("/previews/q/rs:fit:80:80:1/pd:10/plain/abc-public/photo.jpg")
    assert status == 200 and size_of(body) == (100, 80)


async def test_health_reports_the_render_processes(client):
    response = await client.get("/health")
    assert (await response.json())["render"] == "ok"
