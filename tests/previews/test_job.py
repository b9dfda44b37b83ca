"""A preview's job function in the render process: render the Blob, return its Output (proxy.previews.job)."""

from pathlib import Path

import pytest
import pyvips

from proxy.blob import Blob
from proxy.errors import Unprocessable
from proxy.jobs.child import job_function
from proxy.jobs.protocol import Job
from proxy.limits import SourceLimits
from proxy.previews.args import PreviewArgs, RenderSettings
from proxy.previews.formats import AUTO
from proxy.previews.job import render_preview
from proxy.previews.parse import parse_options
from tests.conftest import encode_image
from tests.previews.conftest import png_declaring

SETTINGS = RenderSettings(SourceLimits(max_pixels=1_000_000, max_file_size=1 << 20), 80, {})


def job(source: bytes, fmt: str, *segments: str, tmp_path: Path) -> Job:
    args = PreviewArgs(parse_options(segments), fmt, SETTINGS)
    return Job("preview", Blob.of_bytes(source), args, tmp_path / "out", "abc-public/a")


def test_the_preview_job_renders_its_source(tmp_path: Path) -> None:
    assert job_function("preview") is render_preview
    output = render_preview(
        job(encode_image(64, 48, ".png"), "webp", "w:32", tmp_path=tmp_path), None
    )
    assert output.format == "webp" and output.extra == {}
    assert pyvips.Image.new_from_buffer(output.body, "").width == 32
    auto = render_preview(job(encode_image(64, 48, ".png"), AUTO, tmp_path=tmp_path), None)
    assert auto.format == "png"


def test_the_source_itself_comes_back_when_not_processed(tmp_path: Path) -> None:
    source = encode_image(16, 16, ".png")
    output = render_preview(job(source, AUTO, "raw:1", tmp_path=tmp_path), None)
    assert output.body == source


def test_the_render_settings_limits_apply(tmp_path: Path) -> None:
    with pytest.raises(Unprocessable, match="resolution"):
        render_preview(job(png_declaring(2000, 1000), "png", tmp_path=tmp_path), None)
