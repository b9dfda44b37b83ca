"""Source limits, checked from headers before anything is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.errors import PayloadTooLarge, Unprocessable


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_file_size: int

    @classmethod
    def from_settings(cls, max_src_resolution: float, max_src_file_size: int) -> Limits:
        return cls(int(max_src_resolution * 1_000_000), max_src_file_size)

    def check_pixels(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise Unprocessable(f"image has no pixels ({width}x{height})")
        if width * height > self.max_pixels:
            raise Unprocessable(
                f"source resolution {width}x{height} is over the limit of "
                f"{self.max_pixels / 1_000_000:g} megapixels"
            )

    def check_file_size(self, size: int) -> None:
        if size > self.max_file_size:
            raise PayloadTooLarge(
                f"source file of {size} bytes is over the limit of {self.max_file_size} bytes"
            )
