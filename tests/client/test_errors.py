"""Wire errors become the exception classes of their codes."""

from __future__ import annotations

import pytest

from roomcast.client.errors import ConnectionFailed, error_from_wire
from roomcast.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    RoomcastError,
    TooLarge,
    Unavailable,
)


@pytest.mark.parametrize(
    "cls", [BadRequest, Forbidden, NotFound, TooLarge, RateLimited, Unavailable]
)
def test_each_code_maps_to_its_class(cls: type[RoomcastError]) -> None:
    error = error_from_wire({"code": cls.code, "message": "why"})

    assert type(error) is cls
    assert error.code == cls.code
    assert error.message == "why"


def test_an_unknown_code_is_a_plain_roomcast_error_that_names_it() -> None:
    error = error_from_wire({"code": "internal", "message": "server error"})

    assert type(error) is RoomcastError
    assert "server error" in error.message
    assert "internal" in error.message


def test_a_malformed_error_still_gives_an_exception() -> None:
    assert type(error_from_wire("boom")) is RoomcastError
    assert type(error_from_wire(None)) is RoomcastError


def test_connection_failed_is_unavailable() -> None:
    assert ConnectionFailed("x").code == "unavailable"
