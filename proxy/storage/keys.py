"""What a key may look like: nothing that could step outside its bucket on any provider.

The same layout must hold on every provider (a local folder is migrated to S3 or Azure by a
plain copy), so a key is refused when any of them could not hold it: a file name on disk is
at most 255 bytes, a whole S3 or Azure key at most 1024.
"""

from proxy.storage.errors import InvalidKey

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255


def validate_key(key: str) -> None:
    """Refuse keys that are traversal attempts or that no provider could hold."""
    if not key or key.startswith("/"):
        raise InvalidKey("empty key" if not key else "key starts with '/'")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey("key too long")
    if "\\" in key:
        raise InvalidKey("backslash in key")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise InvalidKey("control character in key")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("empty, '.' or '..' path segment in key")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(f"a path segment of the key is over {MAX_SEGMENT_BYTES} bytes")
