"""The image converter: browser-viewable images and video frames, with its own cache."""
