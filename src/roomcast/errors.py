"""Roomcast's error classes, for users of the package (defined in ``roomcast.core.errors``)."""

from roomcast.core.errors import (
    BadRequest,
    ConfigError,
    Forbidden,
    NotFound,
    RateLimited,
    RoomcastError,
    TooLarge,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "RoomcastError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
]
