"""Signed links: a token that lets its holder join one room under one name, until it expires.

    token = base64url(JSON claims) "." base64url(HMAC-SHA256(secret, that first part))
    claims = {"room": "study-P07", "name": "P07", "exp": <ms since the epoch> or null}

The server's secret never leaves the server; whoever changes a claim breaks the signature.
The clock is passed in, as everywhere in ``core/``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from roomcast.core.errors import Forbidden
from roomcast.core.validation import parse_name, parse_room

__all__ = ["LinkClaims", "sign_link", "verify_link"]

MAX_TOKEN = 2048


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a signed link grants: joining ``room`` as ``name`` until ``expires`` (ms) if set."""

    room: str
    name: str
    expires: int | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest())


def sign_link(secret: bytes, claims: LinkClaims) -> str:
    """The token of ``claims``; room and name are checked as a join would check them."""
    payload: dict[str, object] = {
        "room": parse_room(claims.room),
        "name": parse_name(claims.name),
        "exp": claims.expires,
    }
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_signature(secret, body)}"


_INVALID = "This link is not valid (it may have been cut short or changed); ask for a new one."


def verify_link(secret: bytes, token: object, now_ms: int) -> LinkClaims:
    """The claims of a genuine, unexpired token; ``Forbidden`` with a message for people."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise Forbidden(_INVALID)
    body, signature = token.split(".")
    try:
        expected = _signature(secret, body)
    except UnicodeEncodeError:
        raise Forbidden(_INVALID) from None
    if not hmac.compare_digest(expected, signature):
        raise Forbidden(_INVALID)
    try:
        payload = json.loads(_unb64(body))
        claims = LinkClaims(payload["room"], payload["name"], payload.get("exp"))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise Forbidden(_INVALID) from None
    if claims.expires is not None and now_ms >= claims.expires:
        raise Forbidden("This link has expired; ask for a new one.")
    return claims
