"""What the server sends a render process with a converter job.

Apart from `jobs.py`, which holds the work itself, so that a server process builds and
pickles them without loading libvips, numpy, Pillow or FFmpeg: only render processes do.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.converter.refs import Position
from proxy.limits import SourceLimits


@dataclass(frozen=True)
class ConvertArgs:
    format: str | None  # None: the converter's choice for the source
    limits: SourceLimits


@dataclass(frozen=True)
class FrameArgs:
    position: Position
    stream_index: int
    format: str
    limits: SourceLimits
