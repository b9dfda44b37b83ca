"""Limits on hostile sources, checked from headers before anything is decoded.

One type serves every route (previews, conversions, video frames), so a limit means the
same thing wherever a source enters.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.errors import PayloadTooLarge, Unprocessable


@dataclass(frozen=True)
class SourceLimits:
    max_pixels: int
    max_file_size: int
    # For animations: a limit per frame instead of on the sum (0: the sum counts), as
    # imgproxy's IMGPROXY_MAX_ANIMATION_FRAME_RESOLUTION.
    max_frame_pixels: int = 0

    @classmethod
    def from_settings(
        cls, max_src_resolution: float, max_src_file_size: int, max_frame_resolution: float = 0
    ) -> SourceLimits:
        return cls(
            int(max_src_resolution * 1_000_000),
            max_src_file_size,
            int(max_frame_resolution * 1_000_000),
        )

    def check_pixels(self, width: int, height: int, frames: int = 1) -> None:
        """`frames`: how many frames or pages of width x height will be decoded."""
        if width <= 0 or height <= 0:
            raise Unprocessable(f"image has no pixels ({width}x{height})")
        if frames > 1 and self.max_frame_pixels > 0:
            if width * height > self.max_frame_pixels:
                raise Unprocessable(
                    f"source frame resolution {width}x{height} is over the limit of "
                    f"{self.max_frame_pixels / 1_000_000:g} megapixels a frame"
                )
            return
        if width * height * frames > self.max_pixels:
            what = f"{width}x{height}" + (f" x {frames} frames" if frames > 1 else "")
            raise Unprocessable(
                f"source resolution {what} is over the limit of "
                f"{self.max_pixels / 1_000_000:g} megapixels"
            )

    def check_file_size(self, size: int) -> None:
        if size > self.max_file_size:
            raise PayloadTooLarge(
                f"source file of {size} bytes is over the limit of {self.max_file_size} bytes"
            )
