"""Count limits: sessions per client address, rooms per connection and per server."""

from __future__ import annotations

import pytest

from roomcast.core.errors import RateLimited
from roomcast.core.limits import (
    AddressSessions,
    RoomLimits,
    Unlimited,
    check_join,
    parse_networks,
)

LOOPBACK = Unlimited(parse_networks(("127.0.0.0/8", "::1")))


def test_an_address_may_hold_up_to_the_maximum() -> None:
    sessions = AddressSessions(3)
    for _ in range(3):
        sessions.open("192.0.2.1")
    with pytest.raises(RateLimited, match="at most 3"):
        sessions.open("192.0.2.1")
    sessions.open("192.0.2.2")  # another address has its own count
    assert sessions.count("192.0.2.1") == 3
    sessions.close("192.0.2.1")
    sessions.open("192.0.2.1")  # one closed: one may open
    assert sessions.count("192.0.2.1") == 3


def test_closed_addresses_are_forgotten() -> None:
    sessions = AddressSessions(2)
    sessions.open("192.0.2.1")
    sessions.close("192.0.2.1")
    assert sessions.count("192.0.2.1") == 0
    assert "192.0.2.1" not in sessions._open  # memory follows what is connected now


def test_zero_is_no_limit() -> None:
    sessions = AddressSessions(0)
    for _ in range(1000):
        sessions.open("192.0.2.1")
    assert sessions.count("192.0.2.1") == 1000


def test_unlimited_addresses_are_never_refused_but_still_counted() -> None:
    sessions = AddressSessions(1, LOOPBACK)
    for address in ("127.0.0.1", "127.0.0.9", "::1", "::ffff:127.0.0.1"):
        sessions.open(address)
        sessions.open(address)
    assert sessions.count("127.0.0.1") == 2
    sessions.open("192.0.2.1")
    with pytest.raises(RateLimited):
        sessions.open("192.0.2.1")


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("127.0.0.1", True),
        ("127.255.0.3", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4 on a dual-stack socket
        ("128.0.0.1", False),
        ("::2", False),
        ("", False),  # no address (a Unix socket)
        ("not-an-ip", False),
    ],
)
def test_unlimited_matches_addresses_in_its_networks(address: str, inside: bool) -> None:
    assert (address in LOOPBACK) is inside


def test_parse_networks_names_the_bad_entry() -> None:
    assert [str(n) for n in parse_networks(("10.1.2.3/8", "::1"))] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="'proxy' is not an IP address"):
        parse_networks(("10.0.0.0/8", "proxy"))


def test_a_connection_may_be_in_so_many_rooms() -> None:
    limits = RoomLimits(per_connection=2, per_server=100)
    check_join(limits, joined=1, open_rooms=5, room_is_open=False)
    with pytest.raises(RateLimited, match="at most 2 rooms"):
        check_join(limits, joined=2, open_rooms=5, room_is_open=True)


def test_a_full_server_opens_no_new_room_but_keeps_its_open_ones() -> None:
    limits = RoomLimits(per_connection=10, per_server=3)
    check_join(limits, joined=0, open_rooms=2, room_is_open=False)
    check_join(limits, joined=0, open_rooms=3, room_is_open=True)
    with pytest.raises(RateLimited, match="3 rooms open"):
        check_join(limits, joined=0, open_rooms=3, room_is_open=False)


def test_zero_room_limits_are_no_limits() -> None:
    check_join(RoomLimits(0, 0), joined=10**6, open_rooms=10**6, room_is_open=False)
