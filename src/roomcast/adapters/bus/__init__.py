"""Buses: fan-out of publications between server processes. :class:`LocalBus` for one
process, :class:`RedisBus` for many; both pass ``tests/adapters/test_bus_contract.py``."""

from roomcast.adapters.bus.local import LocalBus
from roomcast.adapters.bus.redis import RedisBus

__all__ = ["LocalBus", "RedisBus"]
