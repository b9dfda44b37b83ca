"""Previews of converter output: the converter cache sits between previews and storage."""

import pyvips

from tests.conftest import read_metric
from tests.converter import media

FRAMES = 30
PREVIEW = "/previews/q/ext:jpeg/resize:fill:{width}:0:0/q:70/plain/image-converter/{source}"


async def test_preview_sizes_of_one_video_frame_decode_the_video_once(client, put_file):
    put_file("videos/Z/d/HD/v.mp4", media.video("mp4", "libx264", frames=FRAMES, size=(320, 240)))
    source = "videoframe/33p/abc-public/videos/Z/d/HD/v.mp4?videoStreamIndex=0"
    before = await read_metric(client, "proxy_conversions_total", kind="videoframe")

    first = await client.get(PREVIEW.format(width=200, source=source))
    assert first.status == 200, await first.text()
    image = pyvips.Image.new_from_buffer(await first.read(), "")
    assert image.width == 200  # previews never enlarge: the frame is 320 wide
    assert abs(media.frame_index(image.avg()) - round(FRAMES * 0.33)) <= 1

    reads = await read_metric(client, "proxy_storage_reads_total")
    second = await client.get(PREVIEW.format(width=120, source=source))
    assert second.status == 200
    assert pyvips.Image.new_from_buffer(await second.read(), "").width == 120
    assert await read_metric(client, "proxy_storage_reads_total") == reads
    assert await read_metric(client, "proxy_conversions_total", kind="videoframe") == before + 1


async def test_preview_of_a_converted_16bit_tiff(client, put_file):
    put_file("scans/g.tif", media.tiff16(media.gradient16(256, 64)))
    response = await client.get(PREVIEW.format(width=128, source="convert/abc-public/scans/g.tif"))
    assert response.status == 200, await response.text()
    image = pyvips.Image.new_from_buffer(await response.read(), "")
    assert (image.width, image.height) == (128, 32)
    row = image.numpy()[16]
    row = row if row.ndim == 1 else row[:, 0]
    assert row[0] < 20 and row[-1] > 235  # stretched by its own range, not dark
