"""What a key may look like: nothing that could step outside its bucket on any provider."""

from proxy.storage.errors import InvalidKey

MAX_KEY_BYTES = 1024


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
