"""What the server sends a render process with an `/info` job.

Apart from `job.py` so that a server process builds them without loading libvips or numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.info.options import InfoOptions
from proxy.limits import SourceLimits


@dataclass(frozen=True)
class InfoArgs:
    options: InfoOptions
    limits: SourceLimits
    size: int  # the object's size in bytes
    max_svg_size: int
