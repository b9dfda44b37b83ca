"""`videoframe`: one still frame of a video, decoded with PyAV (FFmpeg)."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np

from proxy.converter.refs import Position
from proxy.errors import NotFound, RangeNotSatisfiable, Unprocessable, UnsupportedMediaType
from proxy.limits import SourceLimits
from proxy.sniff import HEAD_SIZE, VIDEO_CONTAINERS, sniff


def grab_frame(
    source: str | BinaryIO, position: Position, stream_index: int, limits: SourceLimits
) -> np.ndarray:
    """The RGB frame on screen at `position`; runs in a render process."""
    detected = sniff(_head(source))
    if detected.kind not in VIDEO_CONTAINERS:
        what = detected.mime if detected.kind != "unknown" else "a file of no known type"
        raise UnsupportedMediaType(f"unsupported type {what}: not a video")
    try:
        container = av.open(source, mode="r")
    except av.FFmpegError as exc:
        raise Unprocessable(f"cannot read video: {exc.strerror or exc}") from exc
    try:
        with container:
            stream = _video_stream(container, stream_index)
            if stream.codec_context.width and stream.codec_context.height:
                limits.check_pixels(stream.codec_context.width, stream.codec_context.height)
            target = _target_seconds(container, stream, position)
            frame = _frame_at(container, stream, target, position)
            limits.check_pixels(frame.width, frame.height)  # headers may not have told
            return frame.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise Unprocessable(f"corrupt video: {exc.strerror or exc}") from exc


def _head(source: str | BinaryIO) -> bytes:
    if isinstance(source, str):
        with open(source, "rb") as fh:
            return fh.read(HEAD_SIZE)
    source.seek(0)
    head = source.read(HEAD_SIZE)
    source.seek(0)
    return head


def _video_stream(container: av.container.InputContainer, index: int) -> av.VideoStream:
    streams = container.streams.video
    if not streams:
        raise UnsupportedMediaType("no video stream in this file")
    if index >= len(streams):
        raise NotFound(f"no video stream {index}: the file has {len(streams)}")
    return streams[index]


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _rate(stream: av.VideoStream) -> Fraction | None:
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate) if rate else None


def _target_seconds(
    container: av.container.InputContainer, stream: av.VideoStream, position: Position
) -> float:
    duration = _duration(container, stream)
    if position.unit == "p":
        if duration is None:
            raise Unprocessable("video duration unknown: use a frame number or seconds")
        return duration * position.value / 100
    if position.unit == "s":
        seconds = position.value
    else:
        rate = _rate(stream)
        if rate is None:
            raise Unprocessable("video frame rate unknown: use seconds or a percentage")
        if stream.frames and position.value >= stream.frames:
            raise RangeNotSatisfiable(
                f"frame {position} is past the end: the video has {stream.frames} frames"
            )
        seconds = float(position.value / rate)
    if duration is not None and seconds > duration:
        raise RangeNotSatisfiable(f"position {position} is past the end ({duration:.3f}s)")
    return seconds


def _frame_at(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    seconds: float,
    position: Position,
) -> av.VideoFrame:
    time_base = stream.time_base or Fraction(1, av.time_base)
    start = stream.start_time or 0
    target = start + round(Fraction(seconds) / time_base)
    if target > start:
        # Lands on the keyframe at or before the target; decoding goes forward from there.
        with contextlib.suppress(av.FFmpegError):  # unseekable: decode from the start
            container.seek(target, stream=stream, backward=True, any_frame=False)
    chosen: av.VideoFrame | None = None
    for frame in container.decode(stream):
        pts = frame.pts if frame.pts is not None else target
        if pts > target and chosen is not None:
            return chosen
        chosen = frame
        if pts >= target:
            return chosen
    if chosen is None:
        raise Unprocessable("no decodable frame in the video")
    rate = _rate(stream)
    span = float(1 / rate) if rate else 0.0
    last = float(((chosen.pts or start) - start) * time_base)
    if position.unit != "p" and seconds > last + span + 1e-3:
        raise RangeNotSatisfiable(f"position {position} is past the end ({last + span:.3f}s)")
    return chosen
