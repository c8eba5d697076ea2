"""One exception root with stable error codes.

    RoomcastError (code)
    ├── BadRequest      bad_request   malformed or invalid payload
    ├── Unauthorized    unauthorized  no API key, or one that is unknown or revoked
    ├── Forbidden       forbidden     not allowed for this member or room
    ├── NotFound        not_found     unknown room or resource
    ├── TooLarge        too_large     text, data or body over its limit
    ├── RateLimited     rate_limited  too many requests; try again later
    ├── Unavailable     unavailable   store or bus cannot take the request now
    └── ConfigError     config_error  a setting is invalid (raised at start-up)

Every adapter maps these to its wire in one place: the Socket.IO ack
``{"ok": false, "error": {"code", "message"}}`` and HTTP JSON of the same shape.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "WIRE_ERRORS",
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "RoomcastError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "code_for_status",
]


class RoomcastError(Exception):
    """Root of every error Roomcast reports to a client or operator."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_wire(self) -> dict[str, Any]:
        """The error object as clients see it: ``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}


class BadRequest(RoomcastError):
    code = "bad_request"
    http_status = 400


class Unauthorized(RoomcastError):
    code = "unauthorized"
    http_status = 401


class Forbidden(RoomcastError):
    code = "forbidden"
    http_status = 403


class NotFound(RoomcastError):
    code = "not_found"
    http_status = 404


class TooLarge(RoomcastError):
    code = "too_large"
    http_status = 413


class RateLimited(RoomcastError):
    code = "rate_limited"
    http_status = 429


class Unavailable(RoomcastError):
    code = "unavailable"
    http_status = 503


class ConfigError(RoomcastError):
    """A setting is missing or invalid; the message names the setting."""

    code = "config_error"


#: The errors a client may be answered with, each with its own code and HTTP status.
WIRE_ERRORS: tuple[type[RoomcastError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    TooLarge,
    RateLimited,
    Unavailable,
)


def code_for_status(status: int) -> str:
    """The error code answered with HTTP ``status`` (a 405 is a ``bad_request``), else
    ``internal``: the one mapping for whoever sees only a status, as a counter of answers."""
    if status == 405:
        return BadRequest.code
    for error in WIRE_ERRORS:
        if error.http_status == status:
            return error.code
    return RoomcastError.code
