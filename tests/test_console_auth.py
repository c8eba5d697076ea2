"""The console's password file: made once, replaced, and noticed by a running server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from roomcast.console_auth import ConsoleAuth

SECRET = b"k" * 32


def test_a_password_is_made_once_and_signs_in(tmp_path: Path) -> None:
    auth = ConsoleAuth(tmp_path, lambda: SECRET)
    assert auth.password_hash() is None
    assert auth.sign_in("anything at all") is None

    password = auth.ensure_password()
    assert password is not None and len(password) >= 12
    assert auth.ensure_password() is None
    assert stat.S_IMODE(os.stat(auth.path).st_mode) == 0o600
    assert password not in auth.path.read_text()

    session = auth.sign_in(password)
    assert session is not None and auth.session_ok(session)
    assert not auth.ticket_ok(session)
    ticket = auth.ticket()
    assert auth.ticket_ok(ticket) and not auth.session_ok(ticket)
    assert auth.sign_in("wrong password") is None


def test_a_new_password_signs_everyone_out(tmp_path: Path) -> None:
    auth = ConsoleAuth(tmp_path, lambda: SECRET)
    auth.set_password("first password")
    session = auth.sign_in("first password")
    assert auth.session_ok(session)

    # Another process (roomcast admin set-password) replaces the file.
    ConsoleAuth(tmp_path, lambda: SECRET).set_password("second password")
    os.utime(auth.path, ns=(1, 1))  # a new mtime even on a coarse clock
    assert not auth.session_ok(session)
    assert auth.sign_in("first password") is None
    assert auth.session_ok(auth.sign_in("second password"))


def test_passes_expire(tmp_path: Path) -> None:
    now = [1_800_000_000_000]
    auth = ConsoleAuth(tmp_path, lambda: SECRET, clock_ms=lambda: now[0])
    auth.set_password("a password")
    session, ticket = auth.sign_in("a password"), auth.ticket()
    now[0] += 61_000
    assert auth.session_ok(session) and not auth.ticket_ok(ticket)
    now[0] += 13 * 3600 * 1000
    assert not auth.session_ok(session)
