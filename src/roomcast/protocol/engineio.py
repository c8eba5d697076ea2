"""Engine.IO v4 packets and long-polling payloads.

A packet on WebSocket is one frame: text ``<type><data>`` or a binary frame (a message
packet whose data is bytes). On long-polling, packets are joined by the record separator
``\\x1e`` and binary data is sent as ``b`` + base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import IntEnum

from roomcast.protocol.errors import ProtocolError

__all__ = [
    "RECORD_SEPARATOR",
    "Packet",
    "PacketType",
    "decode_packet",
    "decode_payload",
    "encode_packet",
    "encode_payload",
    "open_packet",
]

RECORD_SEPARATOR = "\x1e"


class PacketType(IntEnum):
    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


@dataclass(frozen=True, slots=True)
class Packet:
    """One Engine.IO packet; ``data`` is bytes only for binary messages."""

    type: PacketType
    data: str | bytes = ""


_TYPE_BY_CHAR = {str(int(t)): t for t in PacketType}


def encode_packet(packet: Packet) -> str | bytes:
    """A packet as one WebSocket frame: bytes for binary messages, text otherwise."""
    if isinstance(packet.data, bytes):
        if packet.type is not PacketType.MESSAGE:
            raise ProtocolError("only message packets carry binary data")
        return packet.data
    return f"{int(packet.type)}{packet.data}"


def decode_packet(frame: str | bytes) -> Packet:
    """One WebSocket frame as a packet; raises :class:`ProtocolError` if malformed."""
    if isinstance(frame, bytes):
        return Packet(PacketType.MESSAGE, frame)
    if not frame:
        raise ProtocolError("empty packet")
    packet_type = _TYPE_BY_CHAR.get(frame[0])
    if packet_type is None:
        raise ProtocolError(f"unknown packet type {frame[0]!r}")
    return Packet(packet_type, frame[1:])


def encode_payload(packets: list[Packet]) -> str:
    """Packets as one long-polling response body."""
    parts = []
    for packet in packets:
        if isinstance(packet.data, bytes):
            parts.append("b" + base64.b64encode(packet.data).decode("ascii"))
        else:
            parts.append(f"{int(packet.type)}{packet.data}")
    return RECORD_SEPARATOR.join(parts)


def decode_payload(body: str) -> list[Packet]:
    """A long-polling request body as packets; raises :class:`ProtocolError` if malformed."""
    packets = []
    for part in body.split(RECORD_SEPARATOR):
        if part.startswith("b"):
            try:
                data = base64.b64decode(part[1:], validate=True)
            except (binascii.Error, ValueError):
                raise ProtocolError("invalid base64 in binary packet") from None
            packets.append(Packet(PacketType.MESSAGE, data))
        else:
            packets.append(decode_packet(part))
    return packets


# Built once: ``json.dumps`` with any option builds a new encoder at every call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def open_packet(
    sid: str, *, upgrades: list[str], ping_interval_ms: int, ping_timeout_ms: int, max_payload: int
) -> Packet:
    """The handshake packet a server sends first on a new session."""
    body = {
        "sid": sid,
        "upgrades": upgrades,
        "pingInterval": ping_interval_ms,
        "pingTimeout": ping_timeout_ms,
        "maxPayload": max_payload,
    }
    return Packet(PacketType.OPEN, _COMPACT.encode(body))
