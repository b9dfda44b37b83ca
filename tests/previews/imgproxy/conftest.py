"""Replaying one imgproxy case: its URL through our parser, its source through render().

imgproxy's processing suites call `GET /unsafe/<options>/plain/local:///<image>`; here the
same options go through `parse_url` and `parse_options` with the settings the case's
`config` names (the v4 suites allow security options), and the generated equivalent of
the image through `render`. What comes out is decoded by a reader that is not ours.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from PIL import Image as PILImage

from proxy.blob import Blob
from proxy.errors import ProxyError
from proxy.limits import SourceLimits
from proxy.previews import config
from proxy.previews.formats import AUTO
from proxy.previews.parse import parse_options
from proxy.previews.render import render
from proxy.previews.url import parse_url
from proxy.settings import Settings
from proxy.sniff import sniff
from tests.previews.imgproxy.sources import make

# imgproxy setting -> our variable (None: a setting of imgproxy's that we do not need).
SETTINGS = {
    "max_result_dimension": "PREVIEWS_MAX_RESULT_DIMENSION",
    "preserve_hdr": "PREVIEWS_PRESERVE_HDR",
    "max_animation_frames": "PREVIEWS_MAX_ANIMATION_FRAMES",
    "max_src_resolution_megapixels": "PREVIEWS_MAX_SRC_RESOLUTION",
    "skip_processing_formats": "PREVIEWS_SKIP_PROCESSING_FORMATS",
    "watermark_path": "PREVIEWS_WATERMARK_PATH",
    "quality": "PREVIEWS_QUALITY",
    "use_linear_colorspace": None,  # imgproxy resizes in linear light; the sizes match
    "local_root": None,
}


@dataclass
class Outcome:
    status: int
    body: bytes = b""
    format: str | None = None
    width: int = 0
    height: int = 0  # one frame
    frames: int = 1
    interpretation: str = ""
    bands: int = 0
    image: pyvips.Image | None = None  # the first frame, as pixels, when libvips reads it

    @property
    def alpha(self) -> bool:
        return self.bands in (2, 4)

    def pixel(self, x: int, y: int) -> list[float]:
        assert self.image is not None
        return list(self.image(x, y))


def read(body: bytes, fmt: str | None) -> Outcome:
    """The facts of an encoded result, read by libvips, Pillow or pillow-heif (not ours)."""
    out = Outcome(200, body, fmt)
    if fmt == "svg":
        return out
    if fmt in ("bmp", "ico", "heic"):
        if fmt == "heic":
            import pillow_heif

            picture = pillow_heif.open_heif(body)
            out.width, out.height = picture.size
            out.bands = 4 if picture.has_alpha else 3
            out.interpretation = "srgb"
            return out
        with PILImage.open(io.BytesIO(body)) as picture:
            picture.load()
            out.width, out.height = picture.size
            out.bands = len(picture.getbands())
            out.interpretation = "b-w" if picture.mode in ("L", "1", "P") else "srgb"
            array = np.asarray(picture.convert("RGBA" if out.bands == 4 else "RGB"))
            out.image = pyvips.Image.new_from_array(array)
        return out
    animated = fmt in ("gif", "webp")
    image = pyvips.Image.new_from_buffer(body, "", **({"n": -1} if animated else {}))
    page = image.get("page-height") if image.get_typeof("page-height") else image.height
    out.width, out.height, out.frames = image.width, page, image.height // page
    out.interpretation, out.bands = image.interpretation, image.bands
    out.image = image.crop(0, 0, image.width, page).copy_memory()
    return out


Run = Callable[..., Outcome]


@pytest.fixture
def run_case(make_settings: Callable[..., Settings], tmp_path: Path) -> Run:
    """run_case(source, options, config={}, fmt=None): the outcome of one imgproxy case."""

    def run(
        source: str,
        options: str,
        config_values: Mapping[str, Any] | None = None,
        fmt: str | None = None,
        accept_formats: tuple[str, ...] = (),
    ) -> Outcome:
        env = {"PREVIEWS_ALLOW_SECURITY_OPTIONS": "on"}
        for name, value in (config_values or {}).items():
            variable = SETTINGS[name]
            if variable is None:
                continue
            if name == "watermark_path":
                value = tmp_path / "watermark"
                value.write_bytes(make(config_values["watermark_path"]))  # type: ignore[index]
            env[variable] = "on" if value is True else "off" if value is False else str(value)
        settings = make_settings(**env).previews
        url = parse_url(f"unsafe/{options}/plain/abc-public/source" + (f"@{fmt}" if fmt else ""))
        data = make(source)
        try:
            parsed = parse_options(url.options, config.rules(settings))
            if url.extension:
                parsed = replace(parsed, format=url.extension)
            requested = parsed.format or ":".join((AUTO, *accept_formats))
            limits = SourceLimits.from_settings(
                settings.max_src_resolution, settings.max_src_file_size
            )
            rendered = render(
                Blob.of_bytes(data), parsed, requested, config.render_settings(settings, limits)
            )
        except ProxyError as exc:
            return Outcome(exc.status, exc.reason.encode())
        outcome = read(rendered.body, rendered.format)
        assert sniff(rendered.body).format == rendered.format or rendered.format is None
        return outcome

    return run
