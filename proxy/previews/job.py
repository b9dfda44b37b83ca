"""A preview's work in a render process: decode, process, encode (see `render`)."""

from __future__ import annotations

from collections.abc import Callable

from proxy.blob import Blob
from proxy.jobs.protocol import Job, Output
from proxy.previews.args import PreviewArgs
from proxy.previews.render import render


def render_preview(job: Job, ranges: Callable[[int, int], bytes] | None) -> Output:
    args: PreviewArgs = job.args
    assert isinstance(job.source, Blob)
    rendered = render(job.source, args.options, args.format, args.settings)
    return Output(rendered.body, rendered.format)
