"""The converter's job functions in a render process: convert and video_frame (proxy.converter.jobs)."""

from pathlib import Path

import pytest
import pyvips

from proxy.blob import Blob
from proxy.converter.args import ConvertArgs, FrameArgs
from proxy.converter.jobs import convert, video_frame
from proxy.converter.refs import Position
from proxy.errors import Unprocessable
from proxy.jobs.child import job_function
from proxy.jobs.protocol import Job, RangedSource
from proxy.limits import SourceLimits
from tests.converter import media

LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=1 << 30)
FRAMES = 20


def job(kind: str, source: Blob | RangedSource, args: object, tmp_path: Path) -> Job:
    return Job(kind, source, args, tmp_path / "out", "abc-public/x")


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return media.video("mp4", "mpeg4", frames=FRAMES)


def test_the_job_table_names_them() -> None:
    assert job_function("convert") is convert and job_function("videoframe") is video_frame


def test_convert_sniffs_the_source_and_picks_or_keeps_the_format(tmp_path: Path) -> None:
    tiff = Blob.of_bytes(media.tiff16(media.gradient16()))
    output = convert(job("convert", tiff, ConvertArgs(None, LIMITS), tmp_path), None)
    assert output.format == "png" and output.body.startswith(b"\x89PNG")
    asked = convert(job("convert", tiff, ConvertArgs("webp", LIMITS), tmp_path), None)
    assert asked.format == "webp" and asked.body[8:12] == b"WEBP"
    tight = ConvertArgs(None, SourceLimits(max_pixels=100, max_file_size=1 << 30))
    with pytest.raises(Unprocessable, match="megapixels"):
        convert(job("convert", tiff, tight, tmp_path), None)


def frame_args(position: Position, fmt: str = "jpeg") -> FrameArgs:
    return FrameArgs(position, 0, fmt, LIMITS)


def grey_frame(body: bytes) -> int:
    return media.frame_index(pyvips.Image.new_from_buffer(body, "").avg())


def test_video_frame_from_memory_and_from_a_path(tmp_path: Path, mp4: bytes) -> None:
    output = video_frame(
        job("videoframe", Blob.of_bytes(mp4), frame_args(Position("f", 7)), tmp_path), None
    )
    assert output.format == "jpeg" and output.body[:3] == b"\xff\xd8\xff"
    assert grey_frame(output.body) == 7
    path = tmp_path / "v.mp4"
    path.write_bytes(mp4)
    by_path = Blob.of_file(path, len(mp4))
    png = video_frame(
        job("videoframe", by_path, frame_args(Position("f", 3), "png"), tmp_path), None
    )
    assert png.format == "png" and grey_frame(png.body) == 3


def test_video_frame_of_a_ranged_source_reads_through_the_callback(
    tmp_path: Path, mp4: bytes
) -> None:
    asked: list[tuple[int, int]] = []

    def ranges(start: int, end: int) -> bytes:
        asked.append((start, end))
        return mp4[start : end + 1]

    source = RangedSource(len(mp4), "v.mp4")
    output = video_frame(job("videoframe", source, frame_args(Position("f", 5)), tmp_path), ranges)
    assert grey_frame(output.body) == 5
    assert asked and all(0 <= start <= end < len(mp4) for start, end in asked)
