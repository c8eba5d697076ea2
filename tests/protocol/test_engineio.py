"""Engine.IO v4 packets and long-polling payloads, without I/O."""

from __future__ import annotations

import json

import pytest

from roomcast.protocol.engineio import (
    RECORD_SEPARATOR,
    Packet,
    PacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    encode_payload,
    open_packet,
)
from roomcast.protocol.errors import ProtocolError

# (packet, its WebSocket frame): every packet type, with and without data.
FRAMES: list[tuple[Packet, str | bytes]] = [
    (Packet(PacketType.OPEN, '{"sid":"abc"}'), '0{"sid":"abc"}'),
    (Packet(PacketType.CLOSE), "1"),
    (Packet(PacketType.PING), "2"),
    (Packet(PacketType.PING, "probe"), "2probe"),
    (Packet(PacketType.PONG), "3"),
    (Packet(PacketType.PONG, "probe"), "3probe"),
    (Packet(PacketType.MESSAGE, "hello"), "4hello"),
    (Packet(PacketType.MESSAGE, ""), "4"),
    (Packet(PacketType.MESSAGE, "héllo 😀 \x1e"), "4héllo 😀 \x1e"),
    (Packet(PacketType.MESSAGE, '2["event",{"a":1}]'), '42["event",{"a":1}]'),
    (Packet(PacketType.UPGRADE), "5"),
    (Packet(PacketType.NOOP), "6"),
    (Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04"), b"\x01\x02\x03\x04"),
    (Packet(PacketType.MESSAGE, b""), b""),
]


@pytest.mark.parametrize(("packet", "frame"), FRAMES)
def test_encode_packet(packet: Packet, frame: str | bytes) -> None:
    assert encode_packet(packet) == frame


@pytest.mark.parametrize(("packet", "frame"), FRAMES)
def test_decode_packet(packet: Packet, frame: str | bytes) -> None:
    decoded = decode_packet(frame)

    assert decoded == packet
    assert type(decoded.data) is type(packet.data)


@pytest.mark.parametrize("packet_type", [t for t in PacketType if t is not PacketType.MESSAGE])
def test_only_message_packets_carry_binary_data(packet_type: PacketType) -> None:
    with pytest.raises(ProtocolError):
        encode_packet(Packet(packet_type, b"\x00"))


@pytest.mark.parametrize(
    "frame",
    ["", "7", "9hello", "a", "abc", " 4hello", "-1", "\x1e4", "\u0664hello"],
    ids=repr,
)
def test_decode_packet_rejects_unknown_types(frame: str) -> None:
    with pytest.raises(ProtocolError):
        decode_packet(frame)


# (packets, long-polling body)
PAYLOADS: list[tuple[list[Packet], str]] = [
    ([Packet(PacketType.MESSAGE, "hello")], "4hello"),
    (
        [
            Packet(PacketType.MESSAGE, "test1"),
            Packet(PacketType.MESSAGE, "test2"),
            Packet(PacketType.MESSAGE, "test3"),
        ],
        "4test1\x1e4test2\x1e4test3",
    ),
    (
        [Packet(PacketType.MESSAGE, "hello"), Packet(PacketType.MESSAGE, b"\x01\x02\x03\x04")],
        "4hello\x1ebAQIDBA==",
    ),
    (
        [Packet(PacketType.MESSAGE, b"\xff\xfe"), Packet(PacketType.MESSAGE, b"")],
        "b//4=\x1eb",
    ),
    ([Packet(PacketType.PING)], "2"),
    ([Packet(PacketType.PONG), Packet(PacketType.CLOSE)], "3\x1e1"),
    ([Packet(PacketType.NOOP)], "6"),
    (
        [
            Packet(PacketType.PING, "probe"),
            Packet(PacketType.MESSAGE, "é"),
            Packet(PacketType.UPGRADE),
        ],
        "2probe\x1e4é\x1e5",
    ),
    ([Packet(PacketType.MESSAGE, ""), Packet(PacketType.MESSAGE, "")], "4\x1e4"),
]


@pytest.mark.parametrize(("packets", "body"), PAYLOADS)
def test_encode_payload(packets: list[Packet], body: str) -> None:
    assert encode_payload(packets) == body


@pytest.mark.parametrize(("packets", "body"), PAYLOADS)
def test_decode_payload(packets: list[Packet], body: str) -> None:
    assert decode_payload(body) == packets


def test_record_separator_is_the_ascii_record_separator() -> None:
    assert RECORD_SEPARATOR == "\x1e"


@pytest.mark.parametrize(
    "body",
    [
        "",  # no packet at all
        "abc",  # unknown type
        "4hello\x1e",  # empty packet after the separator
        "\x1e4hello",  # empty packet before it
        "4a\x1e\x1e4b",  # empty packet between two
        "4hello\x1e7",  # one bad packet among good ones
        "b!!!!",  # not base64
        "bAQI",  # base64 with a missing pad
        "bAQ=D",  # padding in the middle
        "bé",  # non-ASCII in base64
        "b AQID",  # whitespace is not allowed in strict base64
    ],
    ids=repr,
)
def test_decode_payload_rejects_malformed_bodies(body: str) -> None:
    with pytest.raises(ProtocolError):
        decode_payload(body)


def test_protocol_error_is_a_value_error() -> None:
    # Callers that only know ValueError still catch it.
    assert issubclass(ProtocolError, ValueError)


def test_open_packet_has_the_handshake_fields() -> None:
    packet = open_packet(
        "sid-1",
        upgrades=["websocket"],
        ping_interval_ms=25000,
        ping_timeout_ms=20000,
        max_payload=1_000_000,
    )

    frame = encode_packet(packet)
    assert isinstance(frame, str)
    assert frame.startswith("0")
    assert " " not in frame  # compact JSON
    assert json.loads(frame[1:]) == {
        "sid": "sid-1",
        "upgrades": ["websocket"],
        "pingInterval": 25000,
        "pingTimeout": 20000,
        "maxPayload": 1_000_000,
    }


def test_open_packet_without_upgrades() -> None:
    packet = open_packet(
        "s", upgrades=[], ping_interval_ms=300, ping_timeout_ms=200, max_payload=10
    )

    assert packet.type is PacketType.OPEN
    assert isinstance(packet.data, str)
    assert json.loads(packet.data)["upgrades"] == []
