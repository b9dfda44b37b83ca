"""Chained pipelines: `-/` starts a pipeline that works on the last one's result."""

from __future__ import annotations

import pyvips

from proxy.previews.parse import Rules, parse_options
from tests.conftest import encode_image, read_metric
from tests.previews.conftest import size_of


def test_each_pipeline_has_its_own_processing_options_and_shares_the_result_options():
    options = parse_options(["rs:fit:500:500", "q:50", "-", "w:100", "f:png", "-", "bl:2"])
    assert (options.width, options.height, options.quality, options.format) == (500, 500, 50, "png")
    second, third = options.pipelines
    assert (second.width, second.height, second.resizing_type) == (100, 0, "fit")
    assert (second.quality, second.format) == (50, "png")  # the whole result's options
    assert (third.width, third.blur, third.format) == (0, 2.0, "png")
    assert options.canonical() != parse_options(["rs:fit:500:500", "q:50"]).canonical()


def test_presets_chain_from_the_pipeline_they_are_used_in():
    """imgproxy's own example (chained pipelines, "Using with presets")."""
    rules = Rules(
        presets={"test": "width:300/height:300/-/width:200/height:200/-/width:100/height:200"}
    )
    options = parse_options(["width:400", "-", "preset:test", "width:500", "-", "width:600"], rules)
    got = [(options.width, options.height)] + [(p.width, p.height) for p in options.pipelines]
    assert got == [(400, 0), (500, 300), (600, 200), (100, 200)]


async def test_one_render_runs_every_pipeline(make_client, make_settings, put_file):
    put_file("photo.jpg", encode_image(800, 600))
    client = await make_client(make_settings())
    before = await read_metric(client, "proxy_render_jobs_total", kind="preview")
    response = await client.get(
        "/previews/_/rs:fit:400:400/-/rs:fill:100:100/-/pd:10/bg:ff0000/f:png/plain/abc-public/photo.jpg"
    )
    body = await response.read()
    assert response.status == 200
    assert size_of(body) == (120, 120)  # 800x600 -> 400x300 -> 100x100 -> padded
    image = pyvips.Image.new_from_buffer(body, "")
    assert image(0, 0)[:3] == [255, 0, 0]
    assert await read_metric(client, "proxy_render_jobs_total", kind="preview") == before + 1


async def test_a_trim_in_a_later_pipeline_works_on_the_resized_image(
    make_client, make_settings, put_file
):
    canvas = pyvips.Image.black(400, 400).new_from_image([255, 255, 255])
    square = pyvips.Image.black(200, 200).new_from_image([0, 0, 0])
    put_file("framed.png", canvas.insert(square, 100, 100).cast("uchar").pngsave_buffer())
    client = await make_client(make_settings())
    # Resized to 200x200, the square is 100x100 with one grey column and row of
    # antialiasing at each edge (within 40 of white); trimmed first, it would fill 200x200.
    response = await client.get("/previews/_/rs:fit:200:200/-/t:40/plain/abc-public/framed.png")
    assert size_of(await response.read()) == (100, 100)
    first = await client.get("/previews/_/t:40/rs:fit:200:200/plain/abc-public/framed.png")
    assert size_of(await first.read()) == (200, 200)
