"""Resolving a requested byte range against an object's size."""

from __future__ import annotations

import pytest

from proxy.errors import RangeNotSatisfiable
from proxy.storage.ranges import resolve_range


@pytest.mark.parametrize(
    ("byte_range", "size", "resolved"),
    [
        (None, 100, (0, 99)),
        (None, 0, (0, 0)),  # an empty object: the whole (empty) body
        ((0, 0), 100, (0, 0)),
        ((10, 19), 100, (10, 19)),
        ((10, None), 100, (10, 99)),
        ((10, 500), 100, (10, 99)),  # an end past the object is clipped
        ((99, None), 100, (99, 99)),
        ((-7, None), 100, (93, 99)),  # the last 7 bytes
        ((-7, 3), 100, (93, 99)),  # a suffix ignores any end
        ((-500, None), 100, (0, 99)),  # more than there is: all of it
    ],
)
def test_satisfiable_ranges(byte_range, size, resolved):
    assert resolve_range(byte_range, size) == resolved


@pytest.mark.parametrize(
    ("byte_range", "size"),
    [((100, None), 100), ((150, 160), 100), ((20, 10), 100), ((0, None), 0), ((-1, None), 0)],
)
def test_unsatisfiable_ranges_say_the_size(byte_range, size):
    with pytest.raises(RangeNotSatisfiable) as raised:
        resolve_range(byte_range, size)
    assert raised.value.status == 416
    assert raised.value.headers == {"Content-Range": f"bytes */{size}"}
