"""preserve_hdr through the route: `ph:true` keeps 16 bits even with PREVIEWS_PRESERVE_HDR=off
(imgproxy's TestPreserveHDROptionOverride, the issue's URL)."""

from __future__ import annotations

import pyvips

from tests.previews.conftest import decode


def png16() -> bytes:
    """As imgproxy's test-images/png/16-bpp.png: 600x600 RGB, 16 bits, the full range."""
    xy = pyvips.Image.xyz(600, 600)
    image = (xy[0] * 109).bandjoin([xy[1] * 109, (xy[0] + xy[1]) * 54]).cast("ushort")
    return bytes(image.copy(interpretation="rgb16").pngsave_buffer(bitdepth=16))


async def test_the_option_beats_the_setting(make_client, make_settings, put_file):
    put_file("deep.png", png16())
    client = await make_client(make_settings(PREVIEWS_PRESERVE_HDR="off"))
    url = "/previews/unsafe/resize:fill:100:100/enlarge:1/format:png/{}/plain/abc-public/deep.png"
    kept = decode(await (await client.get(url.format("preserve_hdr:true"))).read())
    assert (kept.interpretation, kept.format) == ("rgb16", "ushort")
    cut = decode(await (await client.get(url.format("preserve_hdr:false"))).read())
    assert (cut.interpretation, cut.format) == ("srgb", "uchar")
    on = await make_client(make_settings(PREVIEWS_PRESERVE_HDR="on"))
    off = decode(await (await on.get(url.format("ph:0"))).read())
    assert off.interpretation == "srgb"
