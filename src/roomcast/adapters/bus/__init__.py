"""Buses: fan-out of publications between server processes."""

from roomcast.adapters.bus.local import LocalBus

__all__ = ["LocalBus"]
