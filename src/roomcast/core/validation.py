"""Validation of client payloads: each event's payload becomes a typed request or an error.

Limits come from :class:`Limits` so that the core reads no settings itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from roomcast.core.errors import BadRequest, TooLarge

__all__ = [
    "HistoryRequest",
    "JoinRequest",
    "Limits",
    "ReadRequest",
    "SendRequest",
    "StateRequest",
    "TrackRequest",
    "TypingRequest",
    "is_room_name",
    "parse_data",
    "parse_history",
    "parse_join",
    "parse_name",
    "parse_object",
    "parse_read",
    "parse_room",
    "parse_send",
    "parse_state",
    "parse_text",
    "parse_track",
    "parse_typing",
]

ROOM_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
MAX_NAME = 64
MAX_CID = 128
MAX_HISTORY_LIMIT = 200
MAX_STEP = 200


@dataclass(frozen=True, slots=True)
class Limits:
    max_text: int = 4_000
    max_data: int = 65_536
    history_page: int = 50


@dataclass(frozen=True, slots=True)
class JoinRequest:
    room: str
    since: int | None
    watch: bool


@dataclass(frozen=True, slots=True)
class SendRequest:
    room: str
    text: str | None
    data: Any
    cid: str | None


@dataclass(frozen=True, slots=True)
class TypingRequest:
    room: str
    typing: bool


@dataclass(frozen=True, slots=True)
class ReadRequest:
    room: str
    offset: int


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    room: str
    before: int | None
    limit: int


@dataclass(frozen=True, slots=True)
class TrackRequest:
    room: str
    step: str
    data: Any


@dataclass(frozen=True, slots=True)
class StateRequest:
    state: Literal["online", "away"]


def parse_object(payload: Any) -> dict[str, Any]:
    """The payload as a JSON object, or ``BadRequest``."""
    if not isinstance(payload, dict):
        raise BadRequest("the payload must be a JSON object")
    return payload


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def is_room_name(value: str) -> bool:
    """1 to 64 of letters, digits, ``.``, ``_`` and ``-``, and not dots alone.

    Dots alone are refused because browsers rewrite ``/r/.`` and ``/r/..`` in links.
    """
    return ROOM_PATTERN.fullmatch(value) is not None and value.strip(".") != ""


def parse_room(value: Any) -> str:
    """A room name (see :func:`is_room_name`)."""
    if not isinstance(value, str) or not is_room_name(value):
        raise BadRequest("room must be 1-64 characters of A-Z a-z 0-9 . _ - (not dots alone)")
    return value


# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder the text
# around them: in a name, "\u202eexe.evil" shows as "live.exe". Plain right-to-left
# names need none of them. Message texts keep them: a bubble ends every override.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def parse_name(value: Any) -> str:
    """A display name: 1 to 64 characters after trimming, no control characters."""
    if not isinstance(value, str):
        raise BadRequest("name must be a string")
    name = " ".join(value.split())
    if not name:
        raise BadRequest("name must not be empty")
    if len(name) > MAX_NAME:
        raise BadRequest(f"name must be at most {MAX_NAME} characters")
    # C0, DEL and C1 (U+0080-U+009F) are all control characters.
    if _has_lone_surrogate(name) or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
        raise BadRequest("name contains characters that cannot be shown")
    if not _BIDI_CONTROLS.isdisjoint(name):
        raise BadRequest("name must not contain text-direction controls (U+202A-E, U+2066-9)")
    return name


def _offset(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**53:
        raise BadRequest(f"{what} must be a whole number of at least 0")
    return value


def parse_join(payload: Any) -> JoinRequest:
    body = parse_object(payload)
    since = body.get("since")
    watch = body.get("watch", False)
    if not isinstance(watch, bool):
        raise BadRequest("watch must be true or false")
    return JoinRequest(
        parse_room(body.get("room")), None if since is None else _offset(since, "since"), watch
    )


def parse_send(payload: Any, limits: Limits) -> SendRequest:
    body = parse_object(payload)
    room = parse_room(body.get("room"))
    text = body.get("text")
    data = body.get("data")
    cid = body.get("cid")
    if text is None and data is None:
        raise BadRequest("a message needs text or data")
    if text is not None:
        parse_text(text, limits)
    parse_data(data, limits)
    if cid is not None and (not isinstance(cid, str) or not 0 < len(cid) <= MAX_CID):
        raise BadRequest(f"cid must be a string of 1-{MAX_CID} characters")
    return SendRequest(room, text, data, cid)


def parse_text(text: Any, limits: Limits, what: str = "text") -> str:
    """Non-blank text of at most ``limits.max_text`` characters."""
    if not isinstance(text, str):
        raise BadRequest(f"{what} must be a string")
    if not text.strip():
        raise BadRequest(f"{what} must not be blank")
    if len(text) > limits.max_text:
        raise TooLarge(f"{what} is longer than {limits.max_text} characters")
    if _has_lone_surrogate(text):
        raise BadRequest(f"{what} is not valid Unicode")
    return text


def parse_data(data: Any, limits: Limits) -> Any:
    """Plain JSON of at most ``limits.max_data`` bytes, or None."""
    if data is None:
        return None
    try:
        # Measured as the wire carries it (UTF-8, not \u escapes); NaN and Infinity are
        # not JSON, and a lone surrogate cannot be encoded (UnicodeEncodeError).
        encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(encoded.encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        raise BadRequest("data must be plain JSON") from None
    if size > limits.max_data:
        raise TooLarge(f"data is larger than {limits.max_data} bytes")
    return data


def parse_track(payload: Any, limits: Limits) -> TrackRequest:
    body = parse_object(payload)
    step = body.get("step")
    if not isinstance(step, str) or not step.strip() or len(step) > MAX_STEP:
        raise BadRequest(f"step must be a name of 1-{MAX_STEP} characters")
    if _has_lone_surrogate(step):
        raise BadRequest("step is not valid Unicode")
    return TrackRequest(parse_room(body.get("room")), step, parse_data(body.get("data"), limits))


def parse_typing(payload: Any) -> TypingRequest:
    body = parse_object(payload)
    typing = body.get("typing")
    if not isinstance(typing, bool):
        raise BadRequest("typing must be true or false")
    return TypingRequest(parse_room(body.get("room")), typing)


def parse_read(payload: Any) -> ReadRequest:
    body = parse_object(payload)
    return ReadRequest(parse_room(body.get("room")), _offset(body.get("offset"), "offset"))


def parse_history(payload: Any, limits: Limits) -> HistoryRequest:
    body = parse_object(payload)
    before = body.get("before")
    limit = body.get("limit", limits.history_page)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_HISTORY_LIMIT}")
    return HistoryRequest(
        parse_room(body.get("room")), None if before is None else _offset(before, "before"), limit
    )


def parse_state(payload: Any) -> StateRequest:
    body = parse_object(payload)
    state = body.get("state")
    if state == "online":
        return StateRequest("online")
    if state == "away":
        return StateRequest("away")
    raise BadRequest("state must be 'online' or 'away'")
