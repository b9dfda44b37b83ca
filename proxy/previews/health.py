"""The libvips check behind /health: can this process make and encode an image at all?"""

from __future__ import annotations

import pyvips


def libvips_problem() -> str:
    """ "" when libvips can make and encode an image, else why not."""
    try:
        pyvips.Image.black(2, 2).pngsave_buffer()
    except Exception as exc:
        return f"libvips does not work: {exc}"
    return ""
