"""Signed JSON tokens: ``base64url(JSON) "." base64url(HMAC-SHA256(key, first part))``.

Signed links and the console's session cookies and connection tickets are all such
tokens; each kind signs with its own key (see :func:`purpose_key`), so a token of one
kind never passes as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

__all__ = ["MAX_TOKEN", "open_token", "purpose_key", "sign_token"]

MAX_TOKEN = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def purpose_key(secret: bytes, purpose: str) -> bytes:
    """The key for one kind of token, derived from the server's secret."""
    return hmac.new(secret, purpose.encode("utf-8"), hashlib.sha256).digest()


def sign_token(key: bytes, payload: dict[str, Any]) -> str:
    """The token carrying ``payload``."""
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_signature(key, body)}"


def open_token(key: bytes, token: object) -> dict[str, Any] | None:
    """The payload of a token that ``key`` signed; None for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        expected = _signature(key, body)
    except UnicodeEncodeError:
        return None
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
