"""Room policies: who may post into a room, and how much of its history is kept.

A chat room keeps everything and takes posts from its members (the default policy). A live
feed is usually written only by publishers (``client_posts: false``) and keeps its last N
messages or the last T seconds, so ten updates a second do not fill the disk. Retention
never removes a room's newest message: a room always keeps its last value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from roomcast.core.errors import BadRequest

__all__ = [
    "DURATION_PATTERN",
    "MAX_KEEP_FOR",
    "RoomPolicy",
    "parse_duration",
    "parse_policy",
    "retention_bounds",
]

MAX_KEEP_FOR = 100 * 365 * 86_400  # a century, in seconds: "forever" is null
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*")
# The durations the OpenAPI document promises to accept: a subset of what _DURATION parses
# (no zero, at most three digits before a unit), so that every one of them is accepted.
DURATION_PATTERN = "^ *0*[1-9][0-9]{0,2}(\\.[0-9]+)? *(ms|s|m|h|d|w)? *$"
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    """``keep_last`` messages and/or ``keep_for`` seconds are kept; None keeps everything."""

    client_posts: bool = True
    keep_last: int | None = None
    keep_for: float | None = None

    @property
    def trims(self) -> bool:
        """Whether retention ever removes messages of this room."""
        return self.keep_last is not None or self.keep_for is not None

    def to_wire(self) -> dict[str, Any]:
        """The policy as the HTTP API shows it."""
        return {
            "client_posts": self.client_posts,
            "keep_last": self.keep_last,
            "keep_for": self.keep_for,
        }


DEFAULT_POLICY = RoomPolicy()


def parse_duration(value: Any, what: str = "keep_for") -> float:
    """Seconds from a number or a text such as ``90``, ``30s``, ``15m``, ``2h``, ``7d``."""
    if isinstance(value, bool):
        raise BadRequest(f"{what} must be a number of seconds or a text like '2h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]
    else:
        raise BadRequest(f"{what} must be a number of seconds or a text like '2h', not {value!r}")
    if not 0 < seconds <= MAX_KEEP_FOR:
        raise BadRequest(f"{what} must be more than 0 seconds and at most a century")
    return seconds


def parse_policy(payload: Any, current: RoomPolicy = DEFAULT_POLICY) -> RoomPolicy:
    """A policy from a JSON object; keys left out keep ``current``'s values, null clears."""
    if not isinstance(payload, dict):
        raise BadRequest("the room policy must be a JSON object")
    unknown = sorted(set(payload) - {"client_posts", "keep_last", "keep_for"})
    if unknown:
        raise BadRequest(f"unknown room policy fields: {', '.join(unknown)}")
    client_posts = payload.get("client_posts", current.client_posts)
    if not isinstance(client_posts, bool):
        raise BadRequest("client_posts must be true or false")
    keep_last = payload.get("keep_last", current.keep_last)
    if isinstance(keep_last, float) and keep_last.is_integer():
        keep_last = int(keep_last)  # JSON has one number type: 100.0 is 100
    if keep_last is not None and (
        isinstance(keep_last, bool) or not isinstance(keep_last, int) or not 1 <= keep_last < 2**53
    ):
        raise BadRequest("keep_last must be a whole number of at least 1, or null")
    keep_for = payload.get("keep_for", current.keep_for)
    if keep_for is not None:
        keep_for = parse_duration(keep_for)
    return RoomPolicy(client_posts, keep_last, keep_for)


def retention_bounds(
    policy: RoomPolicy, last_offset: int, now_ms: int
) -> tuple[int | None, int | None]:
    """``(below_offset, before_ts)``: messages under both bounds that retention may delete.

    ``below_offset`` keeps the last ``keep_last`` offsets; ``before_ts`` keeps the last
    ``keep_for`` seconds. Either is None when that rule keeps everything. The caller never
    deletes the room's newest message, whatever the bounds say.
    """
    below = None if policy.keep_last is None else last_offset - policy.keep_last + 1
    before = None if policy.keep_for is None else now_ms - round(policy.keep_for * 1000)
    return below, before
