"""The input rules every store applies before accepting a write.

Bad input fails the same way whatever the adapter: ``BadRequest``, and nothing stored.
"""

from __future__ import annotations

import json

from roomcast.errors import BadRequest
from roomcast.ports import MessageDraft, Sender, StoredMessage, TimelineEvent

__all__ = [
    "check_draft",
    "check_event",
    "check_limit",
    "check_read_position",
    "idempotency_key",
]

_KINDS = frozenset({"text", "data", "system"})
_EVENT_KINDS = frozenset({"join", "leave", "reconnect", "visibility", "step", "note"})
_INT64 = range(-(2**63), 2**63)


def _check_text(value: str | None, what: str) -> None:
    # Lone surrogates arrive through JSON "\ud800" escapes; they cannot be stored as UTF-8.
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"{what} is not valid Unicode text") from None


def check_draft(draft: MessageDraft) -> str | None:
    """Validate ``draft`` for storage and return its ``data`` as JSON text (None if no data).

    Raises ``BadRequest`` for data that is not JSON (sets, NaN, objects…), text that
    is not encodable as UTF-8, an unknown kind, or a ``ts`` outside 64-bit integers.
    """
    if draft.kind not in _KINDS:
        raise BadRequest(f"unknown message kind {draft.kind!r}")
    if isinstance(draft.ts, bool) or not isinstance(draft.ts, int) or draft.ts not in _INT64:
        raise BadRequest("ts must be a 64-bit integer of milliseconds")
    _check_text(draft.room, "room")
    _check_text(draft.text, "text")
    _check_text(draft.cid, "cid")
    _check_sender(draft.sender)
    return _encode_data(draft.data)


def check_event(event: TimelineEvent) -> str | None:
    """Validate a timeline event like a draft; return its ``data`` as JSON text or None."""
    if event.kind not in _EVENT_KINDS:
        raise BadRequest(f"unknown timeline event kind {event.kind!r}")
    if isinstance(event.ts, bool) or not isinstance(event.ts, int) or event.ts not in _INT64:
        raise BadRequest("ts must be a 64-bit integer of milliseconds")
    _check_text(event.room, "room")
    _check_sender(event.actor)
    return _encode_data(event.data)


def _check_sender(sender: Sender | None) -> None:
    if sender is not None:
        _check_text(sender.id, "sender id")
        _check_text(sender.name, "sender name")


def _encode_data(data: object) -> str | None:
    if data is None:
        return None
    try:
        encoded = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"data is not JSON: {exc}") from None
    _check_text(encoded, "data")
    return encoded


def check_limit(limit: int) -> None:
    """A read's ``limit``: ``BadRequest`` if negative."""
    if limit < 0:
        raise BadRequest("limit must not be negative")


def check_read_position(room: str, member_id: str, offset: int) -> None:
    """Validate a ``set_read`` request; raises ``BadRequest``."""
    _check_text(room, "room")
    _check_text(member_id, "member id")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset not in _INT64:
        raise BadRequest("offset must be a 64-bit integer")
    if offset < 0:
        raise BadRequest("offset must not be negative")


def idempotency_key(draft: MessageDraft | StoredMessage) -> tuple[str, str, str] | None:
    """``(room, sender id, cid)``, or None without a cid.

    A draft without a sender uses the sender id ``""``: anonymous retries are idempotent too
    (and share their key with a sender whose id is ``""``, which members never have).
    """
    if draft.cid is None:
        return None
    return (draft.room, draft.sender.id if draft.sender else "", draft.cid)
