"""`/info`: what an image (or a video) is, as imgproxy's `/info` answers it, as JSON."""
