"""Console passwords and passes without a server."""

from __future__ import annotations

import pytest

from roomcast.core.console_access import (
    check_password,
    hash_password,
    sign_pass,
    verify_pass,
)
from roomcast.core.errors import BadRequest

SECRET = b"s" * 32
NOW = 1_800_000_000_000


def test_a_password_checks_against_its_hash_only() -> None:
    stored = hash_password("correct horse", b"salt" * 4)
    assert stored.startswith("scrypt$")
    assert "correct horse" not in stored
    assert check_password("correct horse", stored)
    for wrong in ("correct hors", "Correct horse", "", None, 42, "x" * 5000):
        assert not check_password(wrong, stored)
    assert hash_password("correct horse", b"other salt") != stored


def test_short_passwords_and_broken_hashes_are_refused() -> None:
    with pytest.raises(BadRequest, match="8"):
        hash_password("short", b"salt")
    for broken in ("", "scrypt$", "scrypt$!!$!!", "md5$YQ==$YQ==", "a$b$c$d"):
        assert not check_password("correct horse", broken)


def test_passes_expire_and_do_not_stand_in_for_each_other() -> None:
    stored = hash_password("correct horse", b"salt" * 4)
    session = sign_pass(SECRET, stored, "session", NOW + 1000)
    assert verify_pass(SECRET, stored, "session", session, NOW)
    assert not verify_pass(SECRET, stored, "session", session, NOW + 1000)
    assert not verify_pass(SECRET, stored, "ticket", session, NOW)
    assert not verify_pass(b"t" * 32, stored, "session", session, NOW)
    # A new password signs everyone out.
    new = hash_password("battery staple", b"salt" * 4)
    assert not verify_pass(SECRET, new, "session", session, NOW)
    for junk in (None, "", "a.b", session[:-3], 7):
        assert not verify_pass(SECRET, stored, "session", junk, NOW)
