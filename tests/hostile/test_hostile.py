"""Hostile uploads against a real server: each costs one request, never the server.

For every kind of bad source, through every route it can take: the status that says what is
wrong, an answer within the time limit, a render slot free again at once (the next preview
renders), a server that still answers, and the peak memory of the server's whole process
tree (the server and its render processes) under a stated bound.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import encode_image
from tests.hostile import sources
from tests.jobs.helpers import CRASH
from tests.server_process import ServerProcess

MEMORY_LIMIT_MIB = 384
# The server, its idle render processes, and one render process at its limit, with room.
TREE_BOUND = (MEMORY_LIMIT_MIB + 900) << 20
REQUEST_TIMEOUT = 10.0
CONVERTER_TIMEOUT = 6.0
SETTINGS = {
    "PREVIEWS_CONCURRENCY": "1",
    "PREVIEWS_MEMORY_LIMIT": f"{MEMORY_LIMIT_MIB}m",
    "REQUEST_TIMEOUT": f"{REQUEST_TIMEOUT:g}s",
    "CONVERTER_TIMEOUT": f"{CONVERTER_TIMEOUT:g}s",
}


def tree_rss(root: int) -> int:
    """Resident memory of `root` and every process under it, in bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


class Sampler:
    """The tree's peak resident memory while a request runs, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("hostile")
    data = base / "data"
    storage = data / "storage" / "abc-public"
    storage.mkdir(parents=True)
    # A real image on the server's disk, outside every bucket: what a hostile SVG would show.
    secret = base / "secret.png"
    secret.write_bytes(encode_image(100, 100, ".png"))
    files = {
        "huge.png": sources.png_declaring(16000, 16000),
        "frames.gif": sources.gif_of_frames(19_999),
        "pages.tif": sources.tiff_of_pages(1000),
        "bomb.svg": sources.svg_filter_bomb(),
        "peek.svg": sources.svg_reading_a_file(str(secret)),
        "cut.jpg": sources.truncated_jpeg(),
        "noise.bin": sources.random_bytes(),
        "noise.mp4": sources.random_bytes(),
        "crash.jpg": CRASH,
        "fine.jpg": encode_image(640, 480),
    }
    for name, body in files.items():
        (storage / name).write_bytes(body)
    with ServerProcess({"DATA_PATH": str(data), **SETTINGS}, base) as running:
        yield running


def get(server: ServerProcess, path: str, timeout: float) -> tuple[int, bytes, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(server.base + path, timeout=timeout) as answer:
            return answer.status, answer.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started


PREVIEW = "/previews/q/rs:fit:200:0/plain/abc-public/"
CONVERT = "/image-converter/convert/abc-public/"
# /info with the fields that need every pixel (the average, a BlurHash, a ThumbHash).
INFO = "/info/q/avg:1/bh:4:3/th:1/plain/abc-public/"
FRAME = "/image-converter/videoframe/0/abc-public/"
CASES = [
    # what, URL, statuses that say what is wrong, its time limit
    ("declared 16000x16000, preview", PREVIEW + "huge.png", {422}, REQUEST_TIMEOUT),
    # A PNG (or JPEG) is browser-viewable: convert hands out its bytes, never decoding them.
    ("declared 16000x16000, convert", CONVERT + "huge.png", {200}, CONVERTER_TIMEOUT),
    ("declared 16000x16000, convert to WebP", CONVERT + "huge.png?format=webp", {422}, 6.0),
    ("declared 16000x16000, video frame", FRAME + "huge.png", {415}, CONVERTER_TIMEOUT),
    (
        "declared 16000x16000, preview of its conversion",
        PREVIEW.replace("abc-public/", "image-converter/convert/abc-public/") + "huge.png",
        {422},
        REQUEST_TIMEOUT,
    ),
    # Refused, or cut to the frame limit: never a minute of rendering.
    ("19,999 frames, animated preview", PREVIEW + "frames.gif@gif", {200, 422}, 5.0),
    ("19,999 frames, still preview", PREVIEW + "frames.gif", {200, 422}, 5.0),
    ("19,999 frames, convert", CONVERT + "frames.gif", {200, 422}, 5.0),
    ("1000 pages, convert", CONVERT + "pages.tif", {200}, CONVERTER_TIMEOUT),
    ("1000 pages, preview", PREVIEW + "pages.tif", {200, 422}, REQUEST_TIMEOUT),
    ("SVG filter bomb, convert", CONVERT + "bomb.svg", {422, 504}, CONVERTER_TIMEOUT),
    # Previews rasterise an SVG at the size they need, which defuses it (or refuse SVGs).
    ("SVG filter bomb, preview", PREVIEW + "bomb.svg", {200, 415, 422, 504}, REQUEST_TIMEOUT),
    ("truncated JPEG, preview", PREVIEW + "cut.jpg", {422}, REQUEST_TIMEOUT),
    ("truncated JPEG, convert to PNG", CONVERT + "cut.jpg?format=png", {422}, 6.0),
    ("random bytes, preview", PREVIEW + "noise.bin", {415}, REQUEST_TIMEOUT),
    ("random bytes, convert", CONVERT + "noise.bin", {415}, CONVERTER_TIMEOUT),
    ("a video that is not one", FRAME + "noise.mp4", {415}, CONVERTER_TIMEOUT),
    ("a decoder crash, preview", PREVIEW + "crash.jpg", {422}, REQUEST_TIMEOUT),
    ("a decoder crash, convert", CONVERT + "crash.jpg", {422}, CONVERTER_TIMEOUT),
    ("declared 16000x16000, info", INFO + "huge.png", {422}, REQUEST_TIMEOUT),
    (
        "declared 16000x16000, info of its dimensions",
        "/info/q/plain/abc-public/huge.png",
        {422},
        5.0,
    ),
    ("19,999 frames, info", INFO + "frames.gif", {200, 422}, 5.0),
    ("1000 pages, info", INFO + "pages.tif", {200, 422}, REQUEST_TIMEOUT),
    ("SVG filter bomb, info", INFO + "bomb.svg", {200, 415, 422, 504}, REQUEST_TIMEOUT),
    ("truncated JPEG, info", INFO + "cut.jpg", {422}, REQUEST_TIMEOUT),
    ("random bytes, info", INFO + "noise.bin", {415}, REQUEST_TIMEOUT),
    ("a video that is not one, info", "/info/q/vm:1/plain/abc-public/noise.mp4", {415}, 6.0),
    ("a decoder crash, info", INFO + "crash.jpg", {422}, REQUEST_TIMEOUT),
]


@pytest.mark.parametrize(("what", "path", "statuses", "limit"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_source_costs_one_request(server, what, path, statuses, limit):
    with Sampler(server.proc.pid) as memory:
        status, body, took = get(server, path, timeout=limit + 10)
    assert status in statuses, f"{what}: {status} {body[:200]!r}"
    assert took < limit + 2, f"{what}: answered after {took:.1f}s (limit {limit}s)"
    if status != 200:
        assert b"Traceback" not in body and len(body) < 300
    assert memory.peak < TREE_BOUND, f"{what}: the process tree reached {memory.peak >> 20} MiB"
    # The render slot is free again: a preview renders right away, and the server answers.
    width = 100 + CASES.index(next(c for c in CASES if c[0] == what))
    fresh = PREVIEW.replace("200", str(width)) + "fine.jpg"
    fine, image, _ = get(server, fresh, timeout=30)
    assert fine == 200 and image[:2] == b"\xff\xd8"
    assert get(server, "/health", timeout=10)[0] == 200


@pytest.mark.parametrize(
    ("path", "width"),
    # A preview rasterises a vector source at the size asked for (200), a conversion as drawn.
    [(CONVERT + "peek.svg?format=png", 100), (PREVIEW + "peek.svg@png", 200)],
)
def test_an_svg_cannot_read_files_off_the_server(server, path, width):
    import pyvips

    status, body, _ = get(server, path, timeout=30)
    assert status == 200, body[:200]
    image = pyvips.Image.new_from_buffer(body, "")
    # The PNG it points at is a bright, opaque picture: any of it drawn shows in the pixels.
    assert image.width == width and image.max() == 0


def test_the_server_survived_all_of_it(server):
    assert server.proc.poll() is None
    assert get(server, "/health", timeout=10)[0] == 200
