"""A preview's work in a render process: decode, process, encode (see `render`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from proxy.blob import Blob
from proxy.jobs.protocol import Job, Output
from proxy.previews.options import Options
from proxy.previews.render import RenderSettings, render


@dataclass(frozen=True)
class PreviewArgs:
    options: Options
    format: str  # the requested output format, or AUTO
    settings: RenderSettings


def render_preview(job: Job, ranges: Callable[[int, int], bytes] | None) -> Output:
    args: PreviewArgs = job.args
    assert isinstance(job.source, Blob)
    rendered = render(job.source, args.options, args.format, args.settings)
    return Output(rendered.body, rendered.format)
