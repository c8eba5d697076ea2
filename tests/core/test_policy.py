"""Room policies: parsing, durations and retention bounds, without a store."""

from __future__ import annotations

import pytest

from roomcast.core.errors import BadRequest
from roomcast.core.policy import RoomPolicy, parse_duration, parse_policy, retention_bounds


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (90, 90.0),
        (0.5, 0.5),
        ("90", 90.0),
        ("30s", 30.0),
        ("15m", 900.0),
        ("2h", 7200.0),
        ("7d", 604_800.0),
        ("1w", 604_800.0),
        ("250ms", 0.25),
        (" 1.5h ", 5400.0),
    ],
)
def test_durations(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", [0, -1, "0s", "soon", "2 hours", True, None, [], "1e3", 1e12])
def test_bad_durations_are_refused(raw: object) -> None:
    with pytest.raises(BadRequest, match="keep_for"):
        parse_duration(raw)


def test_fields_left_out_keep_their_value_and_null_clears() -> None:
    current = RoomPolicy(client_posts=False, keep_last=10, keep_for=60.0)

    assert parse_policy({}, current) == current
    assert parse_policy({"keep_last": None}, current) == RoomPolicy(False, None, 60.0)
    assert parse_policy({"client_posts": True, "keep_for": "1h"}, current) == RoomPolicy(
        True, 10, 3600.0
    )
    assert parse_policy({"keep_last": 5}) == RoomPolicy(keep_last=5)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "feed",
        {"client_posts": 0},
        {"keep_last": 0},
        {"keep_last": 1.5},
        {"keep_last": True},
        {"keep_last": 2**60},
        {"keep_for": -5},
        {"colour": "red"},
    ],
)
def test_bad_policies_are_refused(payload: object) -> None:
    with pytest.raises(BadRequest):
        parse_policy(payload)


def test_retention_bounds() -> None:
    assert retention_bounds(RoomPolicy(), 100, 50_000) == (None, None)
    assert retention_bounds(RoomPolicy(keep_last=10), 100, 50_000) == (91, None)
    assert retention_bounds(RoomPolicy(keep_for=2.5), 100, 50_000) == (None, 47_500)
    assert RoomPolicy(keep_last=1).trims and not RoomPolicy(client_posts=False).trims
