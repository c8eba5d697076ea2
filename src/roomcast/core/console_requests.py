"""Validation of the console-only payloads (see docs/protocol.md, "The facilitator console")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomcast.core.errors import BadRequest, TooLarge
from roomcast.core.validation import Limits, parse_name, parse_object, parse_room, parse_text

__all__ = [
    "MAX_CANNED",
    "LinkRequest",
    "NoteRequest",
    "parse_canned",
    "parse_link",
    "parse_note",
    "parse_send_as",
    "parse_typing_name",
]

MAX_CANNED = 100
MAX_BASE_URL = 500


@dataclass(frozen=True, slots=True)
class NoteRequest:
    room: str
    text: str


@dataclass(frozen=True, slots=True)
class LinkRequest:
    room: str
    name: str
    expires: str | None
    base: str
    page: str | None = None


def parse_note(payload: Any, limits: Limits) -> NoteRequest:
    body = parse_object(payload)
    return NoteRequest(parse_room(body.get("room")), parse_text(body.get("text"), limits))


def parse_send_as(payload: Any) -> bool:
    """Whether a console ``send`` asks to be a system message (``as: "system"``)."""
    as_ = parse_object(payload).get("as")
    if as_ is None:
        return False
    if as_ != "system":
        raise BadRequest("as must be 'system' or left out")
    return True


def parse_typing_name(payload: Any) -> str | None:
    """The name a console ``typing`` shows instead of the facilitator's, if any."""
    name = parse_object(payload).get("name")
    return None if name is None else parse_name(name)


def parse_link(payload: Any) -> LinkRequest:
    body = parse_object(payload)
    expires = body.get("expires")
    if expires is not None and (not isinstance(expires, str) or not expires.strip()):
        raise BadRequest("expires must be a duration such as '2h', or left out")
    base = body.get("base")
    if (
        not isinstance(base, str)
        or len(base) > MAX_BASE_URL
        or not base.startswith(("http://", "https://"))
        or any(c.isspace() for c in base)
    ):
        raise BadRequest("base must be the server's http(s) URL")
    page = body.get("page")
    if page is not None and (
        not isinstance(page, str)
        or len(page) > MAX_BASE_URL
        or not page.startswith("/")
        or page.startswith("//")
        or any(c.isspace() for c in page)
    ):
        raise BadRequest("page must be a path of this server, like /site/start.html")
    return LinkRequest(
        parse_room(body.get("room")), parse_name(body.get("name")), expires, base, page
    )


def parse_canned(payload: Any, limits: Limits) -> list[str] | None:
    """The new canned replies, or None when the call only reads them."""
    replies = parse_object(payload).get("replies")
    if replies is None:
        return None
    if not isinstance(replies, list):
        raise BadRequest("replies must be a list of texts")
    if len(replies) > MAX_CANNED:
        raise TooLarge(f"at most {MAX_CANNED} canned replies")
    return [parse_text(reply, limits, "a canned reply") for reply in replies]
