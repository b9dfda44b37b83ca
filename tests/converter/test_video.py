import io

import pytest

from proxy.converter.refs import parse_position
from proxy.converter.video import grab_frame
from proxy.errors import NotFound, RangeNotSatisfiable, Unprocessable, UnsupportedMediaType
from proxy.limits import SourceLimits
from tests.conftest import encode_image
from tests.converter import media

LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=100 * 1024 * 1024)
FRAMES = 30  # at 10 fps: 3 s


@pytest.fixture(scope="module")
def mp4() -> bytes:
    # libx264 is in the PyAV wheel; B-frames make presentation order differ from decode order.
    return media.video("mp4", "libx264", frames=FRAMES)


@pytest.fixture(scope="module")
def webm() -> bytes:
    return media.video("webm", "libvpx-vp9", frames=FRAMES)


def frame_number(body: bytes, pos: str, stream_index: int = 0) -> int:
    rgb = grab_frame(io.BytesIO(body), parse_position(pos), stream_index, LIMITS)
    assert rgb.shape == (48, 64, 3)
    return media.frame_index(rgb.mean())


@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_percent_picks_the_frame_at_that_share_of_the_duration(container, mp4, webm):
    body = {"mp4": mp4, "webm": webm}[container]
    assert abs(frame_number(body, "33p") - round(FRAMES * 0.33)) <= 1
    assert frame_number(body, "0p") == 0
    assert frame_number(body, "100p") == FRAMES - 1


def test_frame_number_and_seconds(mp4):
    assert frame_number(mp4, "17") == 17
    assert frame_number(mp4, "0") == 0
    assert frame_number(mp4, "2.5s") == 25
    assert frame_number(mp4, "1s") == 10


def test_frame_from_a_path(tmp_path, mp4):
    path = tmp_path / "v.mp4"
    path.write_bytes(mp4)
    rgb = grab_frame(str(path), parse_position("50p"), 0, LIMITS)
    assert abs(media.frame_index(rgb.mean()) - FRAMES // 2) <= 1


@pytest.mark.parametrize("pos", ["4s", "30", "500"])
def test_past_the_end_is_416(mp4, pos):
    with pytest.raises(RangeNotSatisfiable, match="past the end"):
        frame_number(mp4, pos)


def test_missing_stream_index_is_404(mp4):
    with pytest.raises(NotFound, match="no video stream 1"):
        frame_number(mp4, "1", stream_index=1)


def test_corrupt_video_is_422(mp4):
    body = mp4[:64] + bytes(len(mp4) - 64)
    with pytest.raises(Unprocessable):
        frame_number(body, "50p")
    with pytest.raises(UnsupportedMediaType, match="no known type"):  # never opened
        frame_number(b"not a video at all" * 10, "1")


def test_a_file_of_another_type_is_415():
    with pytest.raises(UnsupportedMediaType, match="application/pdf: not a video"):
        frame_number(b"%PDF-1.4\n" + bytes(500), "1")


def test_audio_only_file_is_415(tmp_path):
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), "s16", "mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(UnsupportedMediaType, match="audio/wav: not a video"):
        frame_number(out.getvalue(), "1")


def test_resolution_limit(mp4):
    tiny = SourceLimits(max_pixels=1000, max_file_size=10**9)
    with pytest.raises(Unprocessable, match="megapixels"):
        grab_frame(io.BytesIO(mp4), parse_position("1"), 0, tiny)


def test_what_is_not_a_video_container_never_reaches_ffmpeg():
    png = encode_image(64, 64, ".png")
    with pytest.raises(UnsupportedMediaType, match="image/png: not a video"):
        grab_frame(io.BytesIO(png), parse_position("0"), 0, LIMITS)
    with pytest.raises(UnsupportedMediaType, match="no known type"):
        grab_frame(io.BytesIO(b"hello, world" * 100), parse_position("0"), 0, LIMITS)


def test_storage_failures_while_decoding_keep_their_type():
    from proxy.converter.rangefile import RangeFile
    from proxy.storage.errors import Unavailable

    body = media.video("mp4", "mpeg4", frames=FRAMES, size=(160, 120), noise=100, gop=5)
    calls = []

    def fetch(start: int, end: int) -> bytes:
        calls.append(start)
        if len(calls) > 2:
            raise Unavailable("store down")
        return body[start : end + 1]

    source = RangeFile(fetch, len(body), 4096)
    with pytest.raises(Unavailable):
        grab_frame(source, parse_position("50p"), 0, LIMITS)
