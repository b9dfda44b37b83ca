"""Previews and originals as a web app on another site shows them, in headless Chromium."""

from __future__ import annotations

import struct

import aiohttp

from tests.conftest import encode_image
from tests.converter import media
from tests.previews.conftest import gif_animation, with_alpha
from tests.server_process import ServerProcess

SIZES = "[...document.images].map(i => [i.id, i.naturalWidth, i.naturalHeight])"


def img_page(urls: dict[str, str], extra: str = "") -> str:
    tags = "".join(f'<img id="{name}" src="{url}">' for name, url in urls.items())
    return f"<!doctype html><html><body>{tags}{extra}</body></html>"


async def decoded(page) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Each image's natural size once decoded (0 x 0 for one that failed)."""
    await page.evaluate("Promise.allSettled([...document.images].map(i => i.decode()))")
    return {name: [w, h] for name, w, h in await page.evaluate(SIZES)}


def no_console_errors(page) -> None:  # type: ignore[no-untyped-def]
    assert page.console_errors() == []


async def test_previews_decode_at_the_size_asked_in_every_format(page, site, proxy, put_file):
    put_file("a.jpg", encode_image(400, 300))
    put_file("alpha.png", with_alpha(200, 100))
    base = await proxy()
    previews = {
        "jpeg": (f"{base}/previews/q/rs:fit:80:0/plain/abc-public/a.jpg", [80, 60]),
        "png": (f"{base}/previews/q/rs:fit:50:0/plain/abc-public/alpha.png@png", [50, 25]),
        "webp": (f"{base}/previews/q/rs:fit:0:30/plain/abc-public/a.jpg@webp", [40, 30]),
        "avif": (f"{base}/previews/q/rs:fill:64:64/plain/abc-public/a.jpg@avif", [64, 64]),
        "legacy": (f"{base}/previews/100x,jpeg,q70/abc-public/a.jpg", [100, 75]),
    }
    await page.goto(site.add("/p.html", img_page({k: u for k, (u, _) in previews.items()})))
    assert await decoded(page) == {k: size for k, (_, size) in previews.items()}
    types = {r["url"]: r["mimeType"] for r in page.responses(base)}
    assert [types[u] for u, _ in previews.values()] == [
        "image/jpeg", "image/png", "image/webp", "image/avif", "image/jpeg"
    ]  # fmt: skip
    no_console_errors(page)


# Two pixels of the PNG drawn into a canvas: opaque red on the left, transparent on the right;
# or the error that reading a tainted canvas raises.
READ_PIXELS = (
    "(() => { const i = document.getElementById('png'); const c = new OffscreenCanvas(50, 25);"
    " const g = c.getContext('2d'); g.drawImage(i, 0, 0); try {"
    " return [...g.getImageData(10, 10, 1, 1).data, ...g.getImageData(40, 10, 1, 1).data]; }"
    " catch (e) { return e.name; } })()"
)


async def test_a_canvas_can_read_a_preview_only_with_cors_allowed(page, site, proxy, put_file):
    put_file("alpha.png", with_alpha(200, 100))
    path = "/previews/q/rs:fit:50:0/plain/abc-public/alpha.png@png"
    allowed = await proxy(CORS_ALLOW_ORIGIN=site.base)
    tag = f'<img id="png" crossorigin="anonymous" src="{allowed}{path}">'
    await page.goto(site.add("/cors.html", f"<!doctype html>{tag}"))
    await decoded(page)
    assert await page.evaluate(READ_PIXELS) == [255, 0, 0, 255, 0, 0, 0, 0]
    # fetch() reads the answer, and the headers the proxy exposes.
    seen = await page.evaluate(
        f"fetch('{allowed}{path}', {{cache: 'no-store'}}).then(async r => [r.status, r.headers.get('x-cache-status'),"
        " r.headers.get('etag') !== null, (await r.arrayBuffer()).byteLength > 0])"
    )
    assert seen == [200, "HIT", True, True]
    no_console_errors(page)

    closed = await proxy()  # CORS off: shown, but the canvas is tainted
    await page.goto(site.add("/plain.html", img_page({"png": closed + path})))
    assert (await decoded(page))["png"] == [50, 25]
    assert await page.evaluate(READ_PIXELS) == "SecurityError"


async def test_a_page_with_coep_require_corp_shows_previews(page, site, proxy, put_file):
    put_file("a.jpg", encode_image(400, 300))
    path = "/previews/q/rs:fit:80:0/plain/abc-public/a.jpg"
    isolated = {
        "Cross_Origin_Embedder_Policy": "require-corp",
        "Cross_Origin_Opener_Policy": "same-origin",
    }
    base = await proxy()
    await page.goto(site.add("/coep.html", img_page({"a": base + path}), **isolated))
    assert await page.evaluate("crossOriginIsolated") is True  # SharedArrayBuffer's condition
    assert await decoded(page) == {"a": [80, 60]}
    no_console_errors(page)
    # What the default CORP is for: a policy that does not admit the page's site is blocked.
    strict = await proxy(CROSS_ORIGIN_RESOURCE_POLICY="same-site")
    await page.goto(site.add("/coep-strict.html", img_page({"a": strict + path}), **isolated))
    assert await decoded(page) == {"a": [0, 0]}


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
    b"<script>window.ran = 'yes'</script><rect width='20' height='20' fill='red'/></svg>"
)


async def test_an_svg_with_a_script_opened_directly_runs_nothing(page, site, proxy, put_file):
    put_file("pic.svg", SVG)
    base = await proxy()
    await page.goto(f"{base}/abc-public/pic.svg")
    assert await page.evaluate("typeof window.ran") == "undefined"
    # The same file without the proxy's sandbox does run: the check above can fail.
    await page.goto(site.add("/pic.svg", SVG, "image/svg+xml"))
    assert await page.evaluate("window.ran") == "yes"


async def test_srcset_picks_the_dpr_2_variant_on_a_dpr_2_screen(page, site, proxy, put_file):
    put_file("a.jpg", encode_image(400, 300))
    base = await proxy()
    one = f"{base}/previews/q/rs:fit:60:0/plain/abc-public/a.jpg"
    two = f"{base}/previews/q/rs:fit:60:0/dpr:2/plain/abc-public/a.jpg"
    await page.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 800, "height": 600, "deviceScaleFactor": 2, "mobile": False},
    )
    tag = f'<img id="a" srcset="{one} 1x, {two} 2x">'
    await page.goto(site.add("/srcset.html", f"<!doctype html>{tag}"))
    assert await decoded(page) == {"a": [60, 45]}  # 120 x 90 pixels at density 2
    assert await page.evaluate("document.images[0].currentSrc") == two
    assert [r["url"] for r in page.responses(base)] == [two]
    no_console_errors(page)


async def test_chromiums_own_accept_gets_avif_or_webp_with_vary(page, site, proxy, put_file):
    put_file("a.jpg", encode_image(400, 300))
    path = "/previews/q/rs:fit:80:0/plain/abc-public/a.jpg"
    for env, wanted in (
        ({"PREVIEWS_AUTO_AVIF": "on", "PREVIEWS_AUTO_WEBP": "on"}, "image/avif"),
        ({"PREVIEWS_AUTO_WEBP": "on"}, "image/webp"),
    ):
        base = await proxy(**env)
        await page.goto(site.add(f"/accept-{wanted[6:]}.html", img_page({"a": base + path})))
        assert await decoded(page) == {"a": [80, 60]}
        (response,) = page.responses(base)
        assert response["mimeType"] == wanted
        headers = {k.lower(): v for k, v in response["headers"].items()}
        assert "accept" in headers["vary"].lower()
    no_console_errors(page)


async def test_an_animated_gif_preview_is_still_animated(page, site, proxy, put_file):
    put_file("anim.gif", gif_animation(5, 32, 32, delay_cs=10))
    base = await proxy(CORS_ALLOW_ORIGIN="*")
    await page.goto(site.add("/anim.html", "<!doctype html>"))
    for ext, content_type in (("gif", "image/gif"), ("webp", "image/webp")):
        url = f"{base}/previews/q/rs:fit:16:0/plain/abc-public/anim.gif@{ext}"
        frames = await page.evaluate(
            f"fetch('{url}').then(async r => {{ const d = new ImageDecoder("
            f"{{data: r.body, type: '{content_type}'}}); await d.tracks.ready;"
            " await d.completed; return d.tracks.selectedTrack.frameCount; })"
        )
        assert frames == 5, ext
    no_console_errors(page)


async def test_a_reload_revalidates_and_hits_the_cache(page, site, proxy, put_file):
    put_file("a.jpg", encode_image(400, 300))
    base = await proxy()
    url = f"{base}/previews/q/rs:fit:80:0/plain/abc-public/a.jpg"
    await page.goto(site.add("/reload.html", img_page({"a": url})))
    assert await decoded(page) == {"a": [80, 60]}
    await page.wait_for("the first answer", lambda: page.responses(url))
    loads = page.count("Page.loadEventFired")
    await page.send("Page.reload", {"ignoreCache": False})
    await page.wait_for("the reload", lambda: page.count("Page.loadEventFired") > loads)
    assert await decoded(page) == {"a": [80, 60]}
    # A reload shows the image from the browser's own cache, or asks again and gets 304.
    cached = {p["requestId"] for m, p in page.events if m == "Network.requestServedFromCache"}
    answers = [p for m, p in page.events if m == "Network.responseReceived"]
    again = [p for p in answers if p["response"]["url"] == url][1:]
    assert again
    for answer in again:
        response = answer["response"]
        assert (
            answer["requestId"] in cached
            or response["status"] == 304
            or response.get("fromDiskCache")
        ), response
    # Revalidated (as a reload past max-age does): 304, answered from the proxy's cache.
    await page.evaluate(f"fetch('{url}', {{mode: 'no-cors', cache: 'no-cache'}})")
    await page.wait_for("the revalidation", lambda: len(page.responses(url)) > 1 + len(again))
    # The browser shows the cached answer, updated by what came on the wire: a 304 and HIT.
    wire = [p for m, p in page.events if m == "Network.responseReceivedExtraInfo"][-1]
    assert wire["statusCode"] == 304, wire
    assert page.responses(url)[-1]["headers"]["X-Cache-Status"] == "HIT"
    no_console_errors(page)


async def test_a_16_bit_tiff_through_the_converter_decodes(page, site, proxy, put_file):
    put_file("scans/g.tif", media.tiff16(media.gradient16()))
    base = await proxy()
    url = f"{base}/image-converter/convert/abc-public/scans/g.tif"
    await page.goto(site.add("/tiff.html", img_page({"g": url})))
    assert await decoded(page) == {"g": [256, 8]}
    no_console_errors(page)


async def test_a_video_plays_and_seeks_by_ranges_and_logs_no_error(
    page, site, put_file, data_path, tmp_path
):
    """A real server process, whose log is what an operator reads: Chromium drops media
    streams once it has what it needs, on each seek and when leaving the page."""
    video = media.video("mp4", "libx264", frames=200, size=(480, 360), noise=120)
    # A long video's size, cheaply: a `free` box after the moov at the end (players skip it),
    # so the browser has more to drop than the kernel's buffers take at once.
    padding = 32 << 20
    put_file("v.mp4", video + struct.pack(">I", padding + 8) + b"free" + bytes(padding))
    env = {"DATA_PATH": str(data_path), "ACCESS_LOG": "on"}
    with ServerProcess(env, tmp_path) as server:
        url = f"{server.base}/abc-public/v.mp4"
        async with aiohttp.ClientSession() as http, http.get(url) as warm:
            await warm.read()  # cached: from here on it goes out by sendfile, as a hot video
        tag = f'<video id="v" muted preload="metadata" src="{url}"></video>'
        await page.goto(site.add("/video.html", f"<!doctype html>{tag}"))
        played = await page.evaluate(
            "(async () => { const v = document.getElementById('v'); await v.play();"
            " const seek = t => new Promise(done => { v.onseeked = done; v.currentTime = t; });"
            " await seek(v.duration * 0.8); await seek(v.duration * 0.3); await seek(1);"
            " v.pause(); return [v.duration > 0, v.error === null, v.videoWidth]; })()"
        )
        assert played == [True, True, 480]
        await page.goto("about:blank")  # leaving the page drops what is still streaming
        statuses = [r["status"] for r in page.responses(url)]
        assert set(statuses) <= {200, 206} and 206 in statuses, statuses
        output = server.stop()
    assert "ERROR" not in output and "Traceback" not in output, output
    left = [line for line in output.splitlines() if '"client_left":true' in line]
    assert left, output  # the browser did drop streams: the check above saw them
