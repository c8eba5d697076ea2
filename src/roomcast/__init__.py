"""Roomcast: a self-hosted real-time server — chat rooms and live feeds over Socket.IO."""

__version__ = "0.1.0"  # first: the modules imported below may read it

from roomcast.client import AsyncClient, Client

__all__ = ["AsyncClient", "Client", "__version__"]
