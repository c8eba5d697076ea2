"""Who may use the facilitator console: the password, session cookies and tickets.

The password is kept only as a salted scrypt hash. Signing in gives a session cookie;
the console page trades it for a short-lived ticket that its Socket.IO connection
sends as ``auth: {"console": ticket}`` (the cookie itself stays HttpOnly). Both are
signed with keys derived from the server's secret *and* the password hash, so setting
a new password signs every facilitator out. Clock and salt are passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from roomcast.core.errors import BadRequest
from roomcast.core.signing import open_token, purpose_key, sign_token

__all__ = [
    "MIN_PASSWORD",
    "SESSION_MS",
    "TICKET_MS",
    "check_password",
    "hash_password",
    "sign_pass",
    "verify_pass",
]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
SESSION_MS = 12 * 3600 * 1000  # one lab day
TICKET_MS = 60 * 1000  # long enough to connect, short enough to be worthless if leaked
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)


def hash_password(password: str, salt: bytes) -> str:
    """``scrypt$<salt>$<hash>`` for a password of at least ``MIN_PASSWORD`` characters."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise BadRequest(f"a console password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    encode = base64.b64encode
    return f"scrypt${encode(salt).decode()}${encode(_scrypt(password, salt)).decode()}"


def check_password(password: object, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant time)."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    try:
        scheme, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        salt_bytes = base64.b64decode(salt, validate=True)
    except (ValueError, binascii.Error):
        return False
    return scheme == "scrypt" and hmac.compare_digest(_scrypt(password, salt_bytes), expected)


def _key(secret: bytes, password_hash: str, kind: str) -> bytes:
    return purpose_key(secret, f"console-{kind}\n{password_hash}")


def sign_pass(secret: bytes, password_hash: str, kind: str, expires_ms: int) -> str:
    """A session cookie (``kind="session"``) or a ticket (``"ticket"``) valid until then."""
    return sign_token(_key(secret, password_hash, kind), {"exp": expires_ms})


def verify_pass(secret: bytes, password_hash: str, kind: str, token: object, now_ms: int) -> bool:
    """Whether ``token`` is a genuine, unexpired pass of ``kind``."""
    payload = open_token(_key(secret, password_hash, kind), token)
    if payload is None:
        return False
    expires = payload.get("exp")
    return isinstance(expires, int) and now_ms < expires
