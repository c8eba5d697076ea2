"""Property tests: decoders take any input without crashing, and decode(encode(x)) == x.

"Without crashing" means: every call returns or raises :class:`ProtocolError`, never
another exception (a server would log it as a bug and drop the connection uncleanly).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomcast.protocol.engineio import (
    Packet,
    PacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    encode_payload,
)
from roomcast.protocol.errors import ProtocolError
from roomcast.protocol.socketio import Decoder, SioPacket, encode
from roomcast.protocol.socketio import PacketType as SioType

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=300, deadline=None)


def returns_or_protocol_error(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except ProtocolError:
        return None


# -- strategies -----------------------------------------------------------------------------

# Text with lone surrogates too: JavaScript strings may hold them, and dumps must cope.
any_text = st.text() | st.text(st.characters() | st.characters(categories=["Cs"]), max_size=6)
# JSON values: no NaN or infinities (they do not compare equal or are not JSON).
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | any_text
    | st.floats(allow_nan=False, allow_infinity=False)
)
# Object keys that cannot make a dict look like a binary placeholder.
json_keys = st.text(max_size=8).filter(lambda key: key not in ("_placeholder", "num"))


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4)
        ),
        max_leaves=12,
    )


plain_data = json_values(json_leaves)
data_with_bytes = json_values(json_leaves | st.binary(max_size=16))
namespaces = st.just("/") | st.text(max_size=10).filter(lambda s: "," not in s).map(
    lambda s: "/" + s
)
ack_ids = st.none() | st.integers(min_value=0, max_value=2**53 - 1)


@st.composite
def sio_packets(draw: st.DrawFn) -> SioPacket:
    """Any valid Socket.IO packet, as a server or client would build it."""
    kind = draw(
        st.sampled_from(
            [SioType.CONNECT, SioType.DISCONNECT, SioType.EVENT, SioType.ACK, SioType.CONNECT_ERROR]
        )
    )
    namespace = draw(namespaces)
    if kind is SioType.CONNECT:
        data = draw(st.none() | st.dictionaries(json_keys, plain_data, max_size=4))
        return SioPacket(kind, namespace, data)
    if kind is SioType.DISCONNECT:
        return SioPacket(kind, namespace)
    if kind is SioType.CONNECT_ERROR:
        error = draw(any_text | st.dictionaries(json_keys, plain_data, max_size=4))
        return SioPacket(kind, namespace, error)
    args = draw(st.lists(data_with_bytes, max_size=4))
    if kind is SioType.EVENT:
        return SioPacket(kind, namespace, [draw(any_text), *args], draw(ack_ids))
    return SioPacket(kind, namespace, args, draw(st.integers(0, 2**53 - 1)))


def has_bytes(value: Any) -> bool:
    if isinstance(value, bytes):
        return True
    if isinstance(value, list):
        return any(has_bytes(item) for item in value)
    if isinstance(value, dict):
        return any(has_bytes(item) for item in value.values())
    return False


eio_packets = st.builds(
    Packet,
    st.sampled_from(list(PacketType)),
    st.text().filter(lambda s: "\x1e" not in s),
) | st.builds(Packet, st.just(PacketType.MESSAGE), st.binary())

# Text that looks a little like a Socket.IO packet, to get past the first checks.
placeholder = st.fixed_dictionaries(
    {
        "_placeholder": st.just(True) | st.booleans(),
        "num": st.integers(-2, 12) | st.text(max_size=2),
    }
)
json_fragments = st.builds(
    json.dumps, json_values(json_leaves | placeholder), separators=st.just((",", ":"))
)
sio_like_text = st.builds(
    lambda head, count, namespace, ack, body, cut: (head + count + namespace + ack + body)[
        : cut if cut is not None else None
    ],
    st.sampled_from([*"0123456", "", "7", "x"]),
    st.sampled_from(["", "0-", "1-", "2-", "3-", "11-", "-", "a-"]),
    st.sampled_from(["", "/", "/chat,", "/chat", ",", "/a/b,"]),
    st.sampled_from(["", "0", "12", "9007199254740991", "9007199254740992", "x"]),
    json_fragments | st.text(max_size=20),
    st.none() | st.integers(min_value=0, max_value=80),
)
frames = st.one_of(sio_like_text, st.text(max_size=40), st.binary(max_size=20))


# -- never anything but ProtocolError -------------------------------------------------------


@FUZZ
@given(st.text() | st.binary())
def test_decode_packet_takes_any_frame(frame: str | bytes) -> None:
    packet = returns_or_protocol_error(decode_packet, frame)

    if packet is not None:
        assert isinstance(packet, Packet)


@FUZZ
@given(st.text())
def test_decode_payload_takes_any_text(body: str) -> None:
    packets = returns_or_protocol_error(decode_payload, body)

    if packets is not None:
        assert packets and all(isinstance(packet, Packet) for packet in packets)


@FUZZ
@given(
    st.lists(
        st.sampled_from(["4", "2", "3", "6", "b", "bAQID", "b=", "4\x1e", "\x1e", "x"])
        | st.text(max_size=6),
        max_size=8,
    ).map("".join)
)
def test_decode_payload_takes_payload_like_text(body: str) -> None:
    returns_or_protocol_error(decode_payload, body)


@FUZZ
@given(st.text())
def test_decoder_takes_any_text(text: str) -> None:
    returns_or_protocol_error(Decoder().feed, text)


@FUZZ
@given(st.binary())
def test_decoder_takes_any_bytes(data: bytes) -> None:
    returns_or_protocol_error(Decoder().feed, data)


@FUZZ
@given(st.lists(frames, max_size=8))
def test_decoder_takes_any_sequence_of_frames(sequence: list[str | bytes]) -> None:
    decoder = Decoder(max_attachments=3)
    for frame in sequence:
        # The server closes the connection after an error; the decoder must still not crash.
        packet = returns_or_protocol_error(decoder.feed, frame)
        if packet is not None:
            assert isinstance(packet, SioPacket)
            assert isinstance(packet.namespace, str)
            assert packet.id is None or 0 <= packet.id <= 2**53 - 1


@FUZZ
@given(sio_packets(), st.data())
def test_decoder_takes_truncated_packets(packet: SioPacket, data: st.DataObject) -> None:
    text, *attachments = encode(packet)
    assert isinstance(text, str)
    cut = data.draw(st.integers(min_value=0, max_value=len(text)), label="cut")
    decoder = Decoder()

    returns_or_protocol_error(decoder.feed, text[:cut])
    for attachment in attachments[: data.draw(st.integers(0, len(attachments)), label="sent")]:
        returns_or_protocol_error(decoder.feed, attachment)


@FUZZ
@given(st.lists(eio_packets, min_size=1, max_size=5), st.data())
def test_decode_payload_takes_truncated_payloads(
    packets: list[Packet], data: st.DataObject
) -> None:
    body = encode_payload(packets)
    cut = data.draw(st.integers(min_value=0, max_value=len(body)), label="cut")

    returns_or_protocol_error(decode_payload, body[:cut])


# -- round trips ----------------------------------------------------------------------------


@ROUND_TRIP
@given(sio_packets())
def test_socketio_round_trip(packet: SioPacket) -> None:
    encoded = encode(packet)
    decoder = Decoder(max_attachments=1000)
    results = [decoder.feed(frame) for frame in encoded]

    *incomplete, decoded = results
    assert incomplete == [None] * len(incomplete)
    assert decoded is not None
    binary = has_bytes(packet.data)
    expected_type = SioType(packet.type + 3) if binary else packet.type
    assert decoded.type is expected_type
    assert decoded.namespace == packet.namespace
    assert decoded.data == packet.data
    assert decoded.id == packet.id
    assert decoded.attachments == encoded[1:]


@ROUND_TRIP
@given(sio_packets())
def test_socketio_text_is_valid_utf8(packet: SioPacket) -> None:
    text = encode(packet)[0]

    assert isinstance(text, str)
    text.encode("utf-8")


@ROUND_TRIP
@given(st.lists(eio_packets, min_size=1, max_size=8))
def test_engineio_payload_round_trip(packets: list[Packet]) -> None:
    assert decode_payload(encode_payload(packets)) == packets


@ROUND_TRIP
@given(eio_packets | st.builds(Packet, st.sampled_from(list(PacketType)), st.text()))
def test_engineio_frame_round_trip(packet: Packet) -> None:
    assert decode_packet(encode_packet(packet)) == packet


# -- bounds ---------------------------------------------------------------------------------


@FUZZ
@given(sio_packets(), st.integers(min_value=1, max_value=200))
def test_decoder_never_holds_more_than_max_size(packet: SioPacket, max_size: int) -> None:
    """A binary packet and its attachments are refused once together over ``max_size``."""
    text, *attachments = encode(packet)
    decoder = Decoder(max_attachments=1000, max_size=max_size)
    total = len(text)
    try:
        decoder.feed(text)
        for attachment in attachments:
            total += len(attachment)
            decoder.feed(attachment)
    except ProtocolError:
        assert attachments and total > max_size
        assert not decoder.waiting_for_attachments  # nothing kept after the refusal
    else:
        assert not attachments or total <= max_size
