"""API keys for the HTTP write API: made at random, shown once, stored as a digest.

A key is 32 random bytes, so a plain SHA-256 digest is enough to store it: there is no
password to guess, and a stolen database does not give working keys.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from roomcast.core.errors import BadRequest, Unauthorized
from roomcast.ports import Store

__all__ = [
    "KEY_PREFIX",
    "authenticate",
    "create_key",
    "identify",
    "key_digest",
    "parse_key_name",
]

KEY_PREFIX = "rc_"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
HOW_TO_MAKE_ONE = (
    "make one with `roomcast key create NAME` on the server and send it as "
    "'Authorization: Bearer <key>'"
)


def parse_key_name(name: str) -> str:
    """A key's name: 1-64 characters of ``A-Z a-z 0-9 . _ -``."""
    if not _NAME.fullmatch(name):
        raise BadRequest("a key name is 1-64 characters of A-Z a-z 0-9 . _ -")
    return name


def key_digest(key: str) -> str:
    """What the store keeps of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_key(store: Store, name: str) -> str:
    """Make a key named ``name``, store its digest and return the key (shown only once)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    await store.add_key(parse_key_name(name), key_digest(key), int(time.time() * 1000))
    return key


def _bearer(authorization: str) -> str | None:
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


async def identify(store: Store, authorization: str | None) -> str | None:
    """The name of the valid key an ``Authorization: Bearer`` header carries, else None."""
    key = _bearer(authorization) if authorization else None
    return None if key is None else await store.key_name(key_digest(key))


async def authenticate(store: Store, authorization: str | None) -> str:
    """The name of the key an ``Authorization: Bearer`` header carries; else ``Unauthorized``."""
    if not authorization:
        raise Unauthorized(f"this call needs an API key: {HOW_TO_MAKE_ONE}")
    key = _bearer(authorization)
    if key is None:
        raise Unauthorized(f"send the key as 'Authorization: Bearer <key>'; {HOW_TO_MAKE_ONE}")
    name = await store.key_name(key_digest(key))
    if name is None:
        raise Unauthorized(f"unknown or revoked API key; {HOW_TO_MAKE_ONE}")
    return name
