"""The one error a decoder raises for input that breaks the protocol."""

from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(ValueError):
    """Input that is not a valid packet; the connection that sent it is closed."""
