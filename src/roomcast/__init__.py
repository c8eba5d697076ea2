"""Roomcast: a self-hosted real-time server — chat rooms and live feeds over Socket.IO."""

__all__ = ["__version__"]

__version__ = "0.1.0"
