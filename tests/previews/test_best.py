"""format:best: every candidate encoded, the smallest answered, once per source and options."""

from __future__ import annotations

import pyvips

from proxy.previews.args import BestFormat
from proxy.previews.best import candidates, complexity
from tests.conftest import encode_image, read_metric
from tests.previews.conftest import with_alpha

ACCEPT_ALL = "image/avif,image/webp,image/*"


def flat_graphic() -> bytes:
    image = pyvips.Image.black(300, 200).new_from_image([20, 120, 200])
    image = image.insert(pyvips.Image.black(100, 50).new_from_image([250, 250, 250]), 50, 50)
    return bytes(image.cast("uchar").copy(interpretation="srgb").pngsave_buffer())


def test_complexity_tells_graphics_from_photographs():
    graphic = pyvips.Image.new_from_buffer(flat_graphic(), "")
    photo = pyvips.Image.new_from_buffer(encode_image(300, 200), "")
    assert complexity(graphic) < 5.5 < complexity(photo)


def test_candidates_follow_the_image_and_the_client():
    photo = pyvips.Image.new_from_buffer(encode_image(300, 200), "")
    graphic = pyvips.Image.new_from_buffer(flat_graphic(), "")
    alpha = pyvips.Image.new_from_buffer(encode_image(300, 200), "").bandjoin(200)
    settings = BestFormat()
    names = lambda found: [(c.format, c.lossless) for c in found]  # noqa: E731
    assert names(candidates(photo, (), False, settings)) == [("jpeg", False)]
    assert names(candidates(photo, ("avif", "webp"), False, settings)) == [
        ("jpeg", False),
        ("webp", False),
        ("avif", False),
    ]
    assert names(candidates(graphic, ("webp",), False, settings)) == [
        ("png", False),
        ("webp", True),
    ]
    assert ("jpeg", False) not in names(candidates(alpha, ("webp",), False, settings))
    assert names(candidates(photo, ("webp",), True, settings)) == [("webp", False)]
    capped = BestFormat(max_pixels=1000)
    assert len(candidates(photo, ("avif", "webp"), False, capped)) == 1


async def test_the_smallest_candidate_is_answered_and_cached(make_client, make_settings, put_file):
    put_file("photo.jpg", encode_image(640, 480))
    put_file("graphic.png", flat_graphic())
    put_file("alpha.png", with_alpha(200, 100))
    client = await make_client(make_settings())
    sizes = {}
    for fmt in ("jpeg", "webp", "avif"):
        response = await client.get(f"/previews/_/rs:fit:300:0/f:{fmt}/plain/abc-public/photo.jpg")
        sizes[fmt] = len(await response.read())
    response = await client.get(
        "/previews/_/rs:fit:300:0/f:best/plain/abc-public/photo.jpg", headers={"Accept": ACCEPT_ALL}
    )
    body = await response.read()
    smallest = min(sizes, key=sizes.__getitem__)
    assert response.headers["Content-Type"] == f"image/{smallest}"
    assert len(body) == sizes[smallest] and response.headers["Vary"] == "Accept"
    renders = await read_metric(client, "proxy_render_jobs_total", kind="preview")
    again = await client.get(
        "/previews/_/rs:fit:300:0/plain/abc-public/photo.jpg@best", headers={"Accept": ACCEPT_ALL}
    )
    assert again.headers["X-Cache-Status"] == "HIT" and await again.read() == body
    assert await read_metric(client, "proxy_render_jobs_total", kind="preview") == renders
    # Without WebP and AVIF in Accept, only what every client reads.
    plain = await client.get("/previews/_/f:best/plain/abc-public/photo.jpg")
    assert plain.headers["Content-Type"] == "image/jpeg"
    graphic = await client.get(
        "/previews/_/f:best/plain/abc-public/graphic.png", headers={"Accept": ACCEPT_ALL}
    )
    assert graphic.headers["Content-Type"] in ("image/png", "image/webp")
    assert pyvips.Image.new_from_buffer(await graphic.read(), "")(60, 60)[:3] == [250, 250, 250]
    alpha = await client.get("/previews/_/f:best/plain/abc-public/alpha.png")
    assert alpha.headers["Content-Type"] == "image/png"


async def test_best_by_default_and_skips(make_client, make_settings, put_file):
    put_file("photo.png", encode_image(300, 200, ".png"))
    client = await make_client(
        make_settings(PREVIEWS_BEST_FORMAT_BY_DEFAULT="on", PREVIEWS_SKIP_PROCESSING_FORMATS="png")
    )
    response = await client.get("/previews/_/plain/abc-public/photo.png")
    assert response.headers["Content-Type"] == "image/jpeg"  # a photo: JPEG beats PNG
    # The same caches (one DATA_PATH): the PREVIEWS_BEST_FORMAT_* values are in the key.
    allowing = await make_client(
        make_settings(
            PREVIEWS_BEST_FORMAT_BY_DEFAULT="on",
            PREVIEWS_SKIP_PROCESSING_FORMATS="png",
            PREVIEWS_BEST_FORMAT_ALLOW_SKIPS="on",
        )
    )
    skipped = await allowing.get("/previews/_/plain/abc-public/photo.png")
    assert skipped.headers["Content-Type"] == "image/png"
