"""Previews: imgproxy-compatible URLs rendered with libvips into the preview cache."""
