"""Signed links without a server: what is signed verifies, anything else is refused."""

from __future__ import annotations

import pytest

from roomcast.core.errors import BadRequest, Forbidden
from roomcast.core.links import LinkClaims, sign_link, verify_link

SECRET = b"s" * 32
NOW = 1_800_000_000_000


def test_a_signed_link_verifies_until_it_expires() -> None:
    claims = LinkClaims("study-P07", "Tester Ünal", NOW + 1000)
    token = sign_link(SECRET, claims)

    assert verify_link(SECRET, token, NOW) == claims
    assert verify_link(SECRET, token, NOW + 999) == claims
    with pytest.raises(Forbidden, match="expired"):
        verify_link(SECRET, token, NOW + 1000)
    forever = sign_link(SECRET, LinkClaims("r", "P07"))
    assert verify_link(SECRET, forever, NOW * 10).expires is None


def test_a_changed_link_is_refused_with_a_message_for_people() -> None:
    token = sign_link(SECRET, LinkClaims("study-P07", "P07"))
    body, signature = token.split(".")
    other_body = sign_link(SECRET, LinkClaims("study-P08", "P08")).split(".")[0]
    for bad in (
        f"{other_body}.{signature}",  # someone else's name under this signature
        f"{body}.{signature[:-2]}",  # cut short
        token[:-10],
        sign_link(b"another secret!!", LinkClaims("study-P07", "P07")),
        "",
        "no-dot",
        "a.b.c",
        "ü.ü",
        "x" * 5000,
        None,
        42,
        {"room": "r"},
    ):
        with pytest.raises(Forbidden, match="not valid"):
            verify_link(SECRET, bad, NOW)


def test_signing_checks_room_and_name() -> None:
    with pytest.raises(BadRequest):
        sign_link(SECRET, LinkClaims("bad room", "P07"))
    with pytest.raises(BadRequest):
        sign_link(SECRET, LinkClaims("room", "  "))
