"""What `/info` says of a video: its container's metadata and streams (PyAV, FFmpeg).

FFmpeg reads the container's index and headers only, through ranged reads of the store
when the video is not cached: no packet is decoded.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, BinaryIO

import av

from proxy.errors import Unprocessable
from proxy.info.options import InfoOptions
from proxy.limits import SourceLimits

MAX_META = 64  # metadata entries kept: a container may carry any number


def _seconds(stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    return None


def _stream(stream: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": stream.type, "codec": stream.codec_context.name}
    duration = _seconds(stream)
    if duration is not None:
        entry["duration"] = duration
    if stream.bit_rate:
        entry["bps"] = int(stream.bit_rate)
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        if rate:
            entry["fps"] = round(float(Fraction(rate)), 3)
    elif stream.type == "audio":
        entry["frequency"] = int(stream.codec_context.sample_rate or 0)
        layout = getattr(stream.codec_context, "layout", None)
        if layout is not None:
            entry["layout"] = layout.name
    language = stream.metadata.get("language")
    if language:
        entry["language"] = str(language)[:32]
    return entry


def describe(source: str | BinaryIO, options: InfoOptions, limits: SourceLimits) -> dict[str, Any]:
    """Format, dimensions and metadata of a video; 422 when it has no video stream."""
    try:
        container = av.open(source, mode="r")
    except av.FFmpegError as exc:
        raise Unprocessable(f"cannot read video: {exc.strerror or exc}") from exc
    with container:
        videos = container.streams.video
        if not videos:
            raise Unprocessable("no video stream in this file")
        first = videos[0]
        width, height = first.codec_context.width, first.codec_context.height
        limits.check_pixels(width, height)
        out: dict[str, Any] = {"format": container.format.name}
        if options.dimensions:
            out |= {"width": width, "height": height, "orientation": 1}
        if options.video_meta:
            meta = dict(list(container.metadata.items())[:MAX_META])
            out["video_meta"] = {str(k): str(v)[:1024] for k, v in meta.items()}
            out["video_streams"] = [_stream(s) for s in container.streams]
        return out
