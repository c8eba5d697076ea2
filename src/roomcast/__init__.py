"""Roomcast: a self-hosted real-time server — chat rooms and live feeds over Socket.IO."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roomcast.client import AsyncClient, Client
    from roomcast.client.publisher import AsyncPublisher, Publisher
    from roomcast.producers import producer

__all__ = [
    "AsyncClient",
    "AsyncPublisher",
    "Client",
    "Publisher",
    "__version__",
    "producer",
]

__version__ = "0.1.0"

# The clients load on first use: `roomcast serve` and `import roomcast` stay light.
_LAZY = {
    "AsyncClient": "roomcast.client",
    "Client": "roomcast.client",
    "AsyncPublisher": "roomcast.client.publisher",
    "Publisher": "roomcast.client.publisher",
    "producer": "roomcast.producers",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'roomcast' has no attribute {name!r}")
