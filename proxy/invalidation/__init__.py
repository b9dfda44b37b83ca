"""Dropping what the store changed: purges asked over HTTP, and the store's own events."""

from proxy.invalidation.events import Change, Handshake, read_events
from proxy.invalidation.purges import Invalidation

__all__ = ["Change", "Handshake", "Invalidation", "read_events"]
