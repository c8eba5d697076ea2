"""The console's password file and passes: what ``/console`` and its connections check.

The password is kept as a scrypt hash in ``<data-dir>/console-password`` (owner-only).
If there is none at start-up, :meth:`ConsoleAuth.ensure_password` makes one and returns
it so the start-up banner can show it once; ``roomcast admin set-password`` replaces it,
and a running server notices the new file (every facilitator is signed out).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

from roomcast.core.console_access import (
    SESSION_MS,
    TICKET_MS,
    check_password,
    hash_password,
    sign_pass,
    verify_pass,
)
from roomcast.core.errors import ConfigError
from roomcast.data_files import replace_file

__all__ = ["COOKIE", "PASSWORD_FILE", "ConsoleAuth"]

PASSWORD_FILE = "console-password"
COOKIE = "roomcast_console"


def _now_ms() -> int:
    return int(time.time() * 1000)


class ConsoleAuth:
    """Signs facilitators in and checks their session cookies and connection tickets."""

    def __init__(
        self,
        data_dir: Path,
        secret: Callable[[], bytes],
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self.path = data_dir / PASSWORD_FILE
        self._secret = secret
        self._clock_ms = clock_ms
        self._cached: tuple[int, str] | None = None  # (mtime_ns, hash)

    def password_hash(self) -> str | None:
        """The stored hash, re-read when the file changes; None if no password is set."""
        try:
            mtime = self.path.stat().st_mtime_ns
            if self._cached is None or self._cached[0] != mtime:
                self._cached = (mtime, self.path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            self._cached = None
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"--data-dir: cannot read {self.path}: {error}") from None
        return self._cached[1]

    def set_password(self, password: str) -> None:
        """Store a new password (at least 8 characters; ``BadRequest`` otherwise)."""
        stored = hash_password(password, secrets.token_bytes(16))
        replace_file(self.path, stored + "\n", 0o600)

    def ensure_password(self) -> str | None:
        """Make a password if none is set and return it (to show once); else None."""
        if self.password_hash() is not None:
            return None
        password = secrets.token_urlsafe(12)
        self.set_password(password)
        return password

    def sign_in(self, password: object) -> str | None:
        """A session cookie value for the right password, else None."""
        stored = self.password_hash()
        if stored is None or not check_password(password, stored):
            return None
        return sign_pass(self._secret(), stored, "session", self._clock_ms() + SESSION_MS)

    def session_ok(self, cookie: object) -> bool:
        """Whether ``cookie`` is a live session for the current password."""
        return self._verify("session", cookie)

    def ticket(self) -> str:
        """A ticket for one console connection; call only for a signed-in request."""
        stored = self.password_hash()
        if stored is None:
            raise ConfigError("the console has no password; run roomcast admin set-password")
        return sign_pass(self._secret(), stored, "ticket", self._clock_ms() + TICKET_MS)

    def ticket_ok(self, ticket: object) -> bool:
        """Whether ``ticket`` lets a connection act for the console."""
        return self._verify("ticket", ticket)

    def _verify(self, kind: str, token: object) -> bool:
        stored = self.password_hash()
        if stored is None:
            return False
        return verify_pass(self._secret(), stored, kind, token, self._clock_ms())
