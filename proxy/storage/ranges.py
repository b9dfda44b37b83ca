"""Resolving a requested byte range against an object's size; shared by every backend."""

from proxy.errors import RangeNotSatisfiable


def resolve_range(byte_range: tuple[int, int | None] | None, size: int) -> tuple[int, int]:
    """Inclusive (start, end); a negative start means "the last -start bytes"."""
    if byte_range is None:
        return 0, max(size - 1, 0)
    start, end = byte_range
    if start < 0:
        start = max(size + start, 0)
        end = size - 1
    if end is None or end >= size:
        end = size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(size=size)
    return start, end
