"""The server's link secret, kept in the data folder, and the links ``roomcast link`` prints.

The secret is made at the first start (32 random bytes, a file only its owner may read) so
that links stay valid across restarts; deleting the file invalidates every link.
"""

from __future__ import annotations

import os
import secrets
import time
import urllib.parse
from pathlib import Path

from roomcast.core.errors import ConfigError
from roomcast.core.links import LinkClaims, sign_link

__all__ = ["SECRET_FILE", "link_secret", "signed_link"]

SECRET_FILE = "link-secret"


def link_secret(data_dir: Path) -> bytes:
    """The secret in ``data_dir``, made on first use."""
    path = data_dir / SECRET_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once agree on one secret.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = path.read_bytes()
        else:
            secret = secrets.token_bytes(32)
            with os.fdopen(fd, "wb") as file:
                file.write(secret)
    except OSError as error:
        raise ConfigError(f"--data-dir: cannot keep the link secret in {path}: {error}") from None
    if len(secret) < 16:
        raise ConfigError(f"--data-dir: {path} is not a link secret; delete it to make a new one")
    return secret


def signed_link(
    base_url: str,
    secret: bytes,
    room: str,
    name: str,
    expires_in: float | None = None,
    page: str | None = None,
) -> str:
    """The URL that opens ``room`` as ``name``; it stops working after ``expires_in`` seconds.

    It opens the chat page ``/r/<room>``, or ``page`` (a path of this server such as
    ``/site/start.html``, whose chat widget then joins as the link says).
    """
    expires = None if expires_in is None else int((time.time() + expires_in) * 1000)
    token = sign_link(secret, LinkClaims(room, name, expires))
    base = base_url.rstrip("/")
    if page is None:
        return f"{base}/r/{urllib.parse.quote(room)}?token={token}"
    # "//host/x" would leave this server, and a scheme makes it another site's URL.
    if not page.startswith("/") or page.startswith("//"):
        raise ConfigError(f"--page: {page!r} is not a path of this server, like /site/start.html")
    path, _, fragment = page.partition("#")
    joiner = "&" if "?" in path else "?"
    return f"{base}{path}{joiner}token={token}" + (f"#{fragment}" if fragment else "")
