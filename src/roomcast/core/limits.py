"""Abuse limits that count things rather than time: sessions per address, rooms.

The server asks before it opens a session or a room and tells afterwards what closed;
nothing here reads a clock or a socket. Rates over time are token buckets
(:mod:`roomcast.core.ratelimit`). Every refusal is :class:`RateLimited`, which the
transport maps to ``rate_limited`` (Socket.IO) or HTTP 429.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

from roomcast.core.errors import RateLimited

__all__ = ["AddressSessions", "RoomLimits", "Unlimited", "check_join", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Addresses and networks (``127.0.0.0/8``, ``::1``); ``ValueError`` names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network like 10.0.0.0/8") from None
    return tuple(networks)


class Unlimited:
    """The client addresses that per-address limits skip (``--unlimited-ips``)."""

    def __init__(self, networks: tuple[Network, ...] = ()) -> None:
        self._networks = networks

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False  # no address (a Unix socket) is limited like any other
        # An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._networks)


class AddressSessions:
    """Open sessions per client address, at most ``maximum`` each (0: no limit).

    Addresses in ``unlimited`` are never refused: behind a reverse proxy on the same
    machine every client has the proxy's address.
    """

    def __init__(self, maximum: int, unlimited: Unlimited | None = None) -> None:
        self.maximum = maximum
        self._unlimited = unlimited or Unlimited()
        self._open: Counter[str] = Counter()

    def open(self, address: str) -> None:
        """Count a new session from ``address``, or raise :class:`RateLimited` at the limit."""
        if self.maximum and self._open[address] >= self.maximum and address not in self._unlimited:
            raise RateLimited(
                f"too many connections from your address (at most {self.maximum}); "
                "close some and try again"
            )
        self._open[address] += 1

    def close(self, address: str) -> None:
        """A session from ``address`` that :meth:`open` counted has closed."""
        left = self._open[address] - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)  # memory follows the addresses connected now

    def count(self, address: str) -> int:
        return self._open[address]


@dataclass(frozen=True, slots=True)
class RoomLimits:
    """How many rooms one connection may be in, and this server may have open (0: no limit)."""

    per_connection: int = 100
    per_server: int = 10_000


def check_join(limits: RoomLimits, *, joined: int, open_rooms: int, room_is_open: bool) -> None:
    """Refuse a join into a room the connection is not in yet, if a limit is reached.

    ``joined``: rooms the connection is in; ``open_rooms``: rooms with a connection in them
    on this server; ``room_is_open``: whether the room to join is one of them. Rooms
    already open stay usable when the server is full.
    """
    if limits.per_connection and joined >= limits.per_connection:
        raise RateLimited(
            f"a connection may be in at most {limits.per_connection} rooms; leave one first"
        )
    if limits.per_server and not room_is_open and open_rooms >= limits.per_server:
        raise RateLimited(
            f"this server has {limits.per_server} rooms open, its limit; try again later"
        )
