"""The converter's work in a render process: `convert` and `video_frame`.

Each gets the job (its source and arguments) and, for sources too large to cache, a way to
read ranges of them through the server.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from proxy.blob import Blob
from proxy.converter.args import ConvertArgs, FrameArgs
from proxy.converter.encode import encode
from proxy.converter.images import convert_image
from proxy.converter.loaders import from_array
from proxy.converter.normalize import viewable
from proxy.converter.rangefile import RangeFile, block_size_for
from proxy.jobs.protocol import Job, Output, RangedSource
from proxy.sniff import HEAD_SIZE, sniff

Fetch = Callable[[int, int], bytes]


def convert(job: Job, ranges: Fetch | None) -> Output:
    args: ConvertArgs = job.args
    assert isinstance(job.source, Blob)
    return convert_image(job.source, sniff(job.source.head(HEAD_SIZE)), args.format, args.limits)


def video_frame(job: Job, ranges: Fetch | None) -> Output:
    from proxy.converter.video import grab_frame  # PyAV loads FFmpeg: only for this job

    args: FrameArgs = job.args
    video = _open(job.source, ranges)
    try:
        rgb = grab_frame(video, args.position, args.stream_index, args.limits)
    finally:
        if not isinstance(video, str):
            video.close()
    return Output(encode(viewable(from_array(rgb)), args.format), args.format)


def _open(source: Blob | RangedSource, ranges: Fetch | None) -> str | BinaryIO:
    if isinstance(source, RangedSource):
        assert ranges is not None
        block = block_size_for(source.size)
        return io.BufferedReader(RangeFile(ranges, source.size, block), buffer_size=block)
    if source.path is not None:
        return str(source.path)
    return source.open()
