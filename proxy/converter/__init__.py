"""The image converter: browser-viewable images and video frames, with its own cache."""

from proxy.converter.service import ImageConverter

__all__ = ["ImageConverter"]
