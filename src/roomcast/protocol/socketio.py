"""Socket.IO v5 packets: encoding, and a decoder that reassembles binary attachments.

Text form: ``<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]``. A packet with
binary data is sent as that text, with ``{"_placeholder": true, "num": n}`` in place of
each bytes value, followed by one binary Engine.IO message per attachment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from roomcast.protocol.errors import ProtocolError

__all__ = [
    "Decoder",
    "PacketType",
    "SioPacket",
    "dumps",
    "encode",
    "encode_event",
]


class PacketType(IntEnum):
    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


_BINARY_TYPES = (PacketType.BINARY_EVENT, PacketType.BINARY_ACK)
_MAX_ACK_ID = 2**53 - 1  # JavaScript's largest safe integer


@dataclass(slots=True)
class SioPacket:
    """One Socket.IO packet with its binary attachments already put back in place."""

    type: PacketType
    namespace: str = "/"
    data: Any = None
    id: int | None = None
    attachments: list[bytes] = field(default_factory=list)


# Built once: ``json.dumps`` with any option builds a new encoder at every call.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_COMPACT_ASCII = json.JSONEncoder(separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON as JavaScript writes it; escapes non-ASCII only if it is not valid UTF-8."""
    text = _COMPACT.encode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800"-style input
        return _COMPACT_ASCII.encode(value)
    return text


def _has_binary(value: Any) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if isinstance(value, list | tuple):
        return any(_has_binary(item) for item in value)
    if isinstance(value, dict):
        return any(_has_binary(item) for item in value.values())
    return False


def _deconstruct(value: Any, attachments: list[bytes]) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        attachments.append(bytes(value))
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(value, list | tuple):
        return [_deconstruct(item, attachments) for item in value]
    if isinstance(value, dict):
        return {key: _deconstruct(item, attachments) for key, item in value.items()}
    return value


def encode(packet: SioPacket) -> list[str | bytes]:
    """A packet as Engine.IO message payloads: one text, then one bytes per attachment.

    Raises :class:`ProtocolError` for data nested too deeply to encode.
    """
    try:
        return _encode(packet)
    except RecursionError:
        raise ProtocolError("payload nested too deeply") from None


def _encode(packet: SioPacket) -> list[str | bytes]:
    packet_type = packet.type
    attachments: list[bytes] = []
    data = packet.data
    encoded = isinstance(data, EncodedJSON)  # already JSON, and never binary
    if (
        not encoded
        and data is not None
        and packet_type in (PacketType.EVENT, PacketType.ACK)
        and _has_binary(data)
    ):
        data = _deconstruct(data, attachments)
        packet_type = PacketType(packet_type + 3)  # EVENT -> BINARY_EVENT, ACK -> BINARY_ACK
    head = str(int(packet_type))
    if packet_type in _BINARY_TYPES:
        head += f"{len(attachments)}-"
    if packet.namespace != "/":
        head += packet.namespace + ","
    if packet.id is not None:
        head += str(packet.id)
    if encoded:
        head += data.text
    elif data is not None:
        head += dumps(data)
    return [head, *attachments]


class EncodedJSON:
    """JSON text already encoded (by :func:`dumps`), to be put in a packet as it is.

    A chat message is encoded once and the same text goes into its ack, its broadcast
    and the bus; encoding it three times was a fifth of a send's CPU time.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def encode_event(namespace: str, args: list[Any] | EncodedJSON) -> str:
    """The text of an EVENT packet with no ack and no binary data: the broadcast fast path."""
    prefix = "2" if namespace == "/" else f"2{namespace},"
    return prefix + (args.text if isinstance(args, EncodedJSON) else dumps(args))


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("invalid JSON payload") from None


def _check_payload(packet_type: PacketType, data: Any) -> None:
    if packet_type is PacketType.CONNECT:
        if data is not None and not isinstance(data, dict):
            raise ProtocolError("CONNECT payload must be an object")
    elif packet_type is PacketType.DISCONNECT:
        if data is not None:
            raise ProtocolError("DISCONNECT carries no payload")
    elif packet_type is PacketType.CONNECT_ERROR:
        if not isinstance(data, dict | str):
            raise ProtocolError("CONNECT_ERROR payload must be an object or a string")
    elif packet_type in (PacketType.EVENT, PacketType.BINARY_EVENT):
        if not isinstance(data, list) or not data or not isinstance(data[0], str | int):
            raise ProtocolError("EVENT payload must be an array starting with the event name")
    elif not isinstance(data, list):  # ACK, BINARY_ACK
        raise ProtocolError("ACK payload must be an array")


def _parse_text(text: str, max_attachments: int) -> tuple[SioPacket, int]:
    """The packet in ``text`` and how many binary attachments must follow it."""
    if not text or not "0" <= text[0] <= "6":
        raise ProtocolError(f"unknown packet type {text[:1]!r}")
    packet_type = PacketType(int(text[0]))
    i = 1
    attachments = 0
    if packet_type in _BINARY_TYPES:
        dash = text.find("-", i)
        count = text[i:dash] if dash > 0 else ""
        if not count.isdigit() or not count.isascii():
            raise ProtocolError("binary packet without an attachment count")
        # Bound the length first: int() refuses strings of over 4,300 digits with ValueError.
        if len(count) > 9 or int(count) > max_attachments:
            raise ProtocolError(f"more than {max_attachments} attachments")
        attachments = int(count)
        i = dash + 1
    namespace = "/"
    if i < len(text) and text[i] == "/":
        comma = text.find(",", i)
        end = len(text) if comma < 0 else comma
        namespace = text[i:end]
        i = end + 1
    start = i
    while i < len(text) and "0" <= text[i] <= "9":
        i += 1
    ack_id = None
    if i > start:
        if i - start > 16 or int(text[start:i]) > _MAX_ACK_ID:
            raise ProtocolError("ack id too large")
        ack_id = int(text[start:i])
    data = _parse_json(text[i:]) if i < len(text) else None
    _check_payload(packet_type, data)
    if ack_id is not None and packet_type not in (
        PacketType.EVENT,
        PacketType.BINARY_EVENT,
        PacketType.ACK,
        PacketType.BINARY_ACK,
    ):
        raise ProtocolError("only events and acks carry an id")
    if packet_type in (PacketType.ACK, PacketType.BINARY_ACK) and ack_id is None:
        raise ProtocolError("ACK without an id")
    return SioPacket(packet_type, namespace, data, ack_id), attachments


def _reconstruct(value: Any, attachments: list[bytes]) -> Any:
    if isinstance(value, dict):
        if value.get("_placeholder") is True and "num" in value:
            num = value["num"]
            if not isinstance(num, int) or isinstance(num, bool) or not 0 <= num < len(attachments):
                raise ProtocolError("placeholder refers to a missing attachment")
            return attachments[num]
        return {key: _reconstruct(item, attachments) for key, item in value.items()}
    if isinstance(value, list):
        return [_reconstruct(item, attachments) for item in value]
    return value


def _reconstruct_all(value: Any, attachments: list[bytes]) -> Any:
    try:
        return _reconstruct(value, attachments)
    except RecursionError:  # JSON that json.loads still took, nested deeper than we recurse
        raise ProtocolError("payload nested too deeply") from None


class Decoder:
    """Turns Engine.IO message payloads into Socket.IO packets, one connection's worth.

    Feed every text and binary message in order; a packet is returned once complete
    (a binary packet after its last attachment). Raises :class:`ProtocolError` on any
    malformed input; the caller closes the connection.
    """

    __slots__ = ("_expected", "_max_attachments", "_max_size", "_pending", "_size")

    def __init__(self, *, max_attachments: int = 10, max_size: int | None = None) -> None:
        """``max_size`` bounds a binary packet: its text and attachments, summed in length."""
        self._max_attachments = max_attachments
        self._max_size = max_size
        self._pending: SioPacket | None = None
        self._expected = 0
        self._size = 0

    @property
    def waiting_for_attachments(self) -> bool:
        return self._pending is not None

    def feed(self, message: str | bytes) -> SioPacket | None:
        if isinstance(message, str):
            if self._pending is not None:
                raise ProtocolError("text packet while binary attachments were expected")
            packet, expected = _parse_text(message, self._max_attachments)
            if expected == 0:
                if packet.type in _BINARY_TYPES:
                    packet.data = _reconstruct_all(packet.data, [])
                return packet
            self._pending, self._expected, self._size = packet, expected, len(message)
            return None
        pending = self._pending
        if pending is None:
            raise ProtocolError("binary data without a binary packet")
        # Each attachment is within the transport's limit; together they could hold
        # max_attachments times as much until the last one comes.
        self._size += len(message)
        if self._max_size is not None and self._size > self._max_size:
            self._pending = None
            raise ProtocolError(f"binary packet over {self._max_size} bytes with its attachments")
        pending.attachments.append(message)
        if len(pending.attachments) < self._expected:
            return None
        self._pending = None
        pending.data = _reconstruct_all(pending.data, pending.attachments)
        return pending
