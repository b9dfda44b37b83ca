"""Taking a private internal away from a dependency while its fast path is probed.

An upgrade that drops an internal changes the dependency's own code with it; here only the
name goes, and the dependency's own code still uses it. So the name is gone while the probe
looks, as in a version without it, and back before the test's body runs: there the fast path
is off (what runs is its public path) while the dependency works as before. After the body,
the internal is probed again, so the fast path is on for the next test.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

import pytest

from proxy.internals import Internal


@contextlib.contextmanager
def without(internal: Internal, *gone: tuple[Any, str]) -> Iterator[str]:
    """`internal` probed with each (owner, name) gone; yields what the probe found missing.

    A name in the owner's own namespace (a module's function, a class's attribute or method)
    is deleted; any other, or a slot, is an instance attribute of the class `owner`, deleted
    from each instance as its `__init__` ends.
    """
    try:
        with pytest.MonkeyPatch.context() as patch:
            for owner, name in gone:
                if name in vars(owner) and not isinstance(
                    vars(owner)[name],
                    types.MemberDescriptorType,  # a slot: per instance
                ):
                    patch.delattr(owner, name)
                else:
                    patch.setattr(owner, "__init__", _dropping(owner.__init__, name))
            problem = internal.probe()
        yield problem
    finally:
        internal.probe()


def _dropping(init: Any, name: str) -> Any:
    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if hasattr(self, name):
            delattr(self, name)

    return __init__
