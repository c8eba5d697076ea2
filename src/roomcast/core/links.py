"""Signed links: a token that lets its holder join one room under one name, until it expires.

    token = base64url(JSON claims) "." base64url(HMAC-SHA256(secret, that first part))
    claims = {"room": "study-P07", "name": "P07", "exp": <ms since the epoch> or null}

The server's secret never leaves the server; whoever changes a claim breaks the signature.
The clock is passed in, as everywhere in ``core/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from roomcast.core.errors import Forbidden
from roomcast.core.signing import open_token, sign_token
from roomcast.core.validation import parse_name, parse_room

__all__ = ["LinkClaims", "sign_link", "verify_link"]


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a signed link grants: joining ``room`` as ``name`` until ``expires`` (ms) if set."""

    room: str
    name: str
    expires: int | None = None


def sign_link(secret: bytes, claims: LinkClaims) -> str:
    """The token of ``claims``; room and name are checked as a join would check them."""
    payload: dict[str, object] = {
        "room": parse_room(claims.room),
        "name": parse_name(claims.name),
        "exp": claims.expires,
    }
    return sign_token(secret, payload)


_INVALID = "This link is not valid (it may have been cut short or changed); ask for a new one."


def verify_link(secret: bytes, token: object, now_ms: int) -> LinkClaims:
    """The claims of a genuine, unexpired token; ``Forbidden`` with a message for people."""
    payload = open_token(secret, token)
    if payload is None:
        raise Forbidden(_INVALID)
    try:
        claims = LinkClaims(payload["room"], payload["name"], payload.get("exp"))
    except KeyError:
        raise Forbidden(_INVALID) from None
    if not isinstance(claims.room, str) or not isinstance(claims.name, str):
        raise Forbidden(_INVALID)
    if claims.expires is not None and not isinstance(claims.expires, int):
        raise Forbidden(_INVALID)
    if claims.expires is not None and now_ms >= claims.expires:
        raise Forbidden("This link has expired; ask for a new one.")
    return claims
