"""The errors a Python client raises, all under :class:`~roomcast.core.errors.RoomcastError`.

    RoomcastError (code)
    ├── BadRequest, Forbidden, NotFound, …   an ack or connect_error with that wire code
    ├── Unavailable     unavailable
    │   ├── ConnectionFailed                  the server cannot be reached, or is not Roomcast
    │   └── CallTimedOut                      no ack in time, reconnections included
    └── ClientClosed    client_closed         the client was closed while the call waited

The server's errors keep their classes on the client: an ack
``{"ok": false, "error": {"code": "forbidden", ...}}`` is raised as :class:`Forbidden`.
"""

from __future__ import annotations

from typing import Any

from roomcast.core.errors import (
    WIRE_ERRORS,
    RoomcastError,
    Unavailable,
)

__all__ = ["CallTimedOut", "ClientClosed", "ConnectionFailed", "again", "error_from_wire"]


class ConnectionFailed(Unavailable):
    """The server cannot be reached, or did not answer as an Engine.IO v4 server does."""


class CallTimedOut(Unavailable):
    """A call got no ack within its timeout, reconnections included."""


class ClientClosed(RoomcastError):
    """The client was closed, or the server ended its session for good."""

    code = "client_closed"


_BY_CODE: dict[str, type[RoomcastError]] = {cls.code: cls for cls in WIRE_ERRORS}


def error_from_wire(error: Any, prefix: str = "") -> RoomcastError:
    """The exception for a wire error ``{"code", "message"}``, of the class for its code.

    Codes the client does not know (``internal``) give a plain :class:`RoomcastError`,
    whose message then names the code.
    """
    if not isinstance(error, dict):
        error = {"message": str(error)}
    code = error.get("code")
    message = prefix + str(error.get("message") or "no message")
    cls = _BY_CODE.get(code) if isinstance(code, str) else None
    if cls is None:
        return RoomcastError(f"{message} ({code or 'no code'})")
    return cls(message)


def again(error: RoomcastError) -> RoomcastError:
    """A new exception like ``error``, to raise it for one more caller with its own traceback."""
    return type(error)(error.message)
