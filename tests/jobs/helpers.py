"""Jobs for the pool tests: real previews of real images, and the test-only hostile sources."""

from __future__ import annotations

from pathlib import Path

from proxy.blob import Blob
from proxy.jobs.protocol import Job
from proxy.limits import SourceLimits
from proxy.previews.args import PreviewArgs, RenderSettings
from proxy.previews.formats import AUTO
from proxy.previews.options import Options
from tests.conftest import encode_image

LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=100 << 20)
SETTINGS = RenderSettings(LIMITS, quality=80, format_quality={})


def preview_job(tmp_path: Path, body: bytes, name: str = "b/k.jpg", width: int = 50) -> Job:
    args = PreviewArgs(Options(width=width), AUTO, SETTINGS)
    return Job("preview", Blob.of_bytes(body), args, tmp_path / f"out-{id(body)}", name)


def image() -> bytes:
    return encode_image(320, 240)


def held(gate: Path) -> bytes:
    """A source the render process holds until `gate` exists, then renders as an image."""
    return b"PROXY-TEST-HOLD " + str(gate).encode() + b"\n" + image()


CRASH = b"PROXY-TEST-CRASH"
SPIN = b"PROXY-TEST-SPIN"
EAT = b"PROXY-TEST-EAT"
