"""Socket.IO v5 packets: encoding, and the stateful decoder with binary attachments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from roomcast.protocol.errors import ProtocolError
from roomcast.protocol.socketio import (
    Decoder,
    EncodedJSON,
    PacketType,
    SioPacket,
    dumps,
    encode,
    encode_event,
)


def ph(num: int) -> dict[str, Any]:
    """The placeholder that stands for attachment ``num``."""
    return {"_placeholder": True, "num": num}


def decode_all(frames: list[str | bytes], *, max_attachments: int = 10) -> list[SioPacket]:
    """Feed every frame to one decoder; the packets it completes, in order."""
    decoder = Decoder(max_attachments=max_attachments)
    packets = []
    for frame in frames:
        packet = decoder.feed(frame)
        if packet is not None:
            packets.append(packet)
    assert not decoder.waiting_for_attachments
    return packets


def plain(value: Any) -> Any:
    """``value`` as it comes back from the wire: tuples as lists, bytes-like as bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def decode_one(frames: list[str | bytes]) -> SioPacket:
    packets = decode_all(frames)
    assert len(packets) == 1
    return packets[0]


# -- encoding -----------------------------------------------------------------------------

ENCODED: list[tuple[SioPacket, list[str | bytes]]] = [
    (SioPacket(PacketType.CONNECT), ["0"]),
    (SioPacket(PacketType.CONNECT, data={"token": "123"}), ['0{"token":"123"}']),
    (SioPacket(PacketType.CONNECT, "/admin"), ["0/admin,"]),
    (SioPacket(PacketType.CONNECT, "/admin", {"sid": "oSO0"}), ['0/admin,{"sid":"oSO0"}']),
    (SioPacket(PacketType.DISCONNECT), ["1"]),
    (SioPacket(PacketType.DISCONNECT, "/admin"), ["1/admin,"]),
    (SioPacket(PacketType.EVENT, data=["hello", 1]), ['2["hello",1]']),
    (
        SioPacket(PacketType.EVENT, "/admin", ["project:delete", 123], 456),
        ['2/admin,456["project:delete",123]'],
    ),
    (SioPacket(PacketType.EVENT, data=["héllo", "😀"]), ['2["héllo","😀"]']),
    (SioPacket(PacketType.ACK, data=["bar"], id=12), ['312["bar"]']),
    (SioPacket(PacketType.ACK, "/admin", [], 0), ["3/admin,0[]"]),
    (
        SioPacket(PacketType.CONNECT_ERROR, data={"message": "Not authorized"}),
        ['4{"message":"Not authorized"}'],
    ),
    (
        SioPacket(PacketType.CONNECT_ERROR, "/random", {"message": "Invalid namespace"}),
        ['4/random,{"message":"Invalid namespace"}'],
    ),
    # Bytes turn an EVENT into a BINARY_EVENT with placeholders and attachments.
    (
        SioPacket(PacketType.EVENT, data=["hello", b"\x01\x02\x03"]),
        ['51-["hello",{"_placeholder":true,"num":0}]', b"\x01\x02\x03"],
    ),
    (
        SioPacket(
            PacketType.EVENT,
            "/admin",
            ["upload", {"a": [b"\x01", {"b": bytearray(b"\x02")}]}, memoryview(b"\x03")],
            456,
        ),
        [
            '53-/admin,456["upload",{"a":[{"_placeholder":true,"num":0},'
            '{"b":{"_placeholder":true,"num":1}}]},{"_placeholder":true,"num":2}]',
            b"\x01",
            b"\x02",
            b"\x03",
        ],
    ),
    (
        SioPacket(PacketType.ACK, "/admin", [b"", "ok"], 456),
        ['61-/admin,456[{"_placeholder":true,"num":0},"ok"]', b""],
    ),
    (
        SioPacket(PacketType.ACK, data=[(b"\xff", b"\xfe")], id=7),
        [
            '62-7[[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]]',
            b"\xff",
            b"\xfe",
        ],
    ),
]


@pytest.mark.parametrize(("packet", "frames"), ENCODED)
def test_encode(packet: SioPacket, frames: list[str | bytes]) -> None:
    encoded = encode(packet)

    assert encoded == frames
    assert [type(frame) for frame in encoded] == [type(frame) for frame in frames]


def test_encode_does_not_change_the_packet() -> None:
    data = ["hello", {"file": b"\x00"}]
    packet = SioPacket(PacketType.EVENT, data=data, id=1)

    encode(packet)

    assert packet.type is PacketType.EVENT
    assert packet.data == ["hello", {"file": b"\x00"}]


@pytest.mark.parametrize(
    ("namespace", "args", "frame"),
    [
        ("/", ["message", 1, "2", {"3": [True]}], '2["message",1,"2",{"3":[true]}]'),
        ("/chat", ["message", None], '2/chat,["message",null]'),
        ("/", ["é"], '2["é"]'),
    ],
)
def test_encode_event_is_the_plain_event_frame(namespace: str, args: list[Any], frame: str) -> None:
    assert encode_event(namespace, args) == frame
    assert encode(SioPacket(PacketType.EVENT, namespace, args)) == [frame]


# -- dumps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ["\ud800"],
        {"\udc00": "key"},
        ["a\udfffb", "é"],
        ["😀", "\ud83d"],  # a whole pair and a lone high half
    ],
    ids=repr,
)
def test_dumps_with_lone_surrogates_is_valid_utf8(value: Any) -> None:
    text = dumps(value)

    text.encode("utf-8")  # raises if a lone surrogate is left in the text
    assert json.loads(text) == value


def test_dumps_is_compact_and_keeps_non_ascii() -> None:
    assert dumps({"a": [1, "é", None, True]}) == '{"a":[1,"é",null,true]}'


def test_encoded_event_with_lone_surrogate_is_valid_utf8() -> None:
    [frame] = encode(SioPacket(PacketType.EVENT, data=["message", "x\udc80y"]))

    assert isinstance(frame, str)
    frame.encode("utf-8")
    assert decode_one([frame]).data == ["message", "x\udc80y"]


def test_encode_rejects_data_nested_too_deeply() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]

    with pytest.raises(ProtocolError):
        encode(SioPacket(PacketType.ACK, data=deep, id=1))
    with pytest.raises(ProtocolError):
        encode(SioPacket(PacketType.EVENT, data=["deep", b"\x00", deep]))


# -- decoding -------------------------------------------------------------------------------

# (frames fed to the decoder, type, namespace, data, id)
DECODED: list[tuple[list[str | bytes], PacketType, str, Any, int | None]] = [
    (["0"], PacketType.CONNECT, "/", None, None),
    (['0{"token":"123"}'], PacketType.CONNECT, "/", {"token": "123"}, None),
    (["0/custom,"], PacketType.CONNECT, "/custom", None, None),
    (["0/custom"], PacketType.CONNECT, "/custom", None, None),  # the comma may be left out
    (['0/custom,{"token":"abc"}'], PacketType.CONNECT, "/custom", {"token": "abc"}, None),
    (["1"], PacketType.DISCONNECT, "/", None, None),
    (["1/custom,"], PacketType.DISCONNECT, "/custom", None, None),
    (
        ['2["message",1,"2",{"3":[true]}]'],
        PacketType.EVENT,
        "/",
        ["message", 1, "2", {"3": [True]}],
        None,
    ),
    (
        ['2/admin,456["project:delete",123]'],
        PacketType.EVENT,
        "/admin",
        ["project:delete", 123],
        456,
    ),
    (['2/a/b,["x"]'], PacketType.EVENT, "/a/b", ["x"], None),
    (['20["x"]'], PacketType.EVENT, "/", ["x"], 0),
    (['29007199254740991["x"]'], PacketType.EVENT, "/", ["x"], 2**53 - 1),
    (['2["é","😀"]'], PacketType.EVENT, "/", ["é", "😀"], None),
    (['3456[1,"2",{"3":[false]}]'], PacketType.ACK, "/", [1, "2", {"3": [False]}], 456),
    (["3/admin,12[]"], PacketType.ACK, "/admin", [], 12),
    (
        ['4{"message":"Invalid namespace"}'],
        PacketType.CONNECT_ERROR,
        "/",
        {"message": "Invalid namespace"},
        None,
    ),
    (['4/random,"refused"'], PacketType.CONNECT_ERROR, "/random", "refused", None),
    # Binary packets, completed by their last attachment.
    (
        [
            '52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
            b"\x01\x02\x03",
            b"\x04\x05\x06",
        ],
        PacketType.BINARY_EVENT,
        "/",
        ["message", b"\x01\x02\x03", b"\x04\x05\x06"],
        None,
    ),
    (
        ['62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"\x01", b"\x02"],
        PacketType.BINARY_ACK,
        "/",
        [b"\x01", b"\x02"],
        789,
    ),
    (
        # Nested placeholders, out of order, one attachment used twice.
        [
            '53-/ns,7["ev",{"a":[{"_placeholder":true,"num":2}],"b":{"c":{"_placeholder":true,"num":0}}},'
            '[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]]',
            b"zero",
            b"one",
            b"",
        ],
        PacketType.BINARY_EVENT,
        "/ns",
        ["ev", {"a": [b""], "b": {"c": b"zero"}}, [b"one", b""]],
        7,
    ),
    (['50-["no attachments"]'], PacketType.BINARY_EVENT, "/", ["no attachments"], None),
    (
        # A dict that merely looks like a placeholder (num missing, or _placeholder not true).
        [
            '51-["ev",{"_placeholder":true},{"_placeholder":1,"num":0},{"_placeholder":true,"num":0}]',
            b"x",
        ],
        PacketType.BINARY_EVENT,
        "/",
        ["ev", {"_placeholder": True}, {"_placeholder": 1, "num": 0}, b"x"],
        None,
    ),
]


@pytest.mark.parametrize(("frames", "packet_type", "namespace", "data", "ack_id"), DECODED)
def test_decode(
    frames: list[str | bytes],
    packet_type: PacketType,
    namespace: str,
    data: Any,
    ack_id: int | None,
) -> None:
    packet = decode_one(frames)

    assert packet.type is packet_type
    assert packet.namespace == namespace
    assert packet.data == data
    assert packet.id == ack_id
    assert packet.attachments == [frame for frame in frames if isinstance(frame, bytes)]


def test_binary_packet_waits_for_every_attachment() -> None:
    decoder = Decoder()

    assert (
        decoder.feed('52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]') is None
    )
    assert decoder.waiting_for_attachments
    assert decoder.feed(b"a") is None
    assert decoder.waiting_for_attachments
    packet = decoder.feed(b"b")

    assert packet is not None
    assert packet.data == ["x", b"a", b"b"]
    assert not decoder.waiting_for_attachments


def test_decoder_goes_on_after_a_binary_packet() -> None:
    packets = decode_all(
        [
            '2["first"]',
            '51-["second",{"_placeholder":true,"num":0}]',
            b"\x00",
            '21["third"]',
            '61-1[{"_placeholder":true,"num":0}]',
            b"\x01",
            "1",
        ]
    )

    assert [(p.type, p.data, p.id) for p in packets] == [
        (PacketType.EVENT, ["first"], None),
        (PacketType.BINARY_EVENT, ["second", b"\x00"], None),
        (PacketType.EVENT, ["third"], 1),
        (PacketType.BINARY_ACK, [b"\x01"], 1),
        (PacketType.DISCONNECT, None, None),
    ]


@pytest.mark.parametrize(("packet", "frames"), ENCODED)
def test_decode_of_encode_gives_the_packet_back(
    packet: SioPacket, frames: list[str | bytes]
) -> None:
    decoded = decode_one(encode(packet))

    binary = {PacketType.EVENT: PacketType.BINARY_EVENT, PacketType.ACK: PacketType.BINARY_ACK}
    assert decoded.type is (binary[packet.type] if len(frames) > 1 else packet.type)
    assert decoded.namespace == packet.namespace
    assert decoded.id == packet.id
    assert decoded.data == plain(packet.data)
    assert decoded.attachments == frames[1:]


def test_max_attachments_is_configurable() -> None:
    frame = '53-["x",' + ",".join(json.dumps(ph(i)) for i in range(3)) + "]"

    packet = decode_all([frame, b"a", b"b", b"c"], max_attachments=3)[0]
    assert packet.data == ["x", b"a", b"b", b"c"]
    with pytest.raises(ProtocolError):
        Decoder(max_attachments=2).feed(frame)


# (reason, frames); the last frame must raise.
INVALID: list[tuple[str, list[str | bytes]]] = [
    ("empty", [""]),
    ("unknown type", ["7"]),
    ("unknown type letter", ["abc"]),
    ("unknown type non-ASCII digit", ['\u0662["x"]']),
    ("bad JSON", ['2["message"']),
    ("bad JSON after namespace", ["2/admin,{oops}"]),
    ("ack id with letters", ['2abc["message-with-ack",1,"2",{"3":[false]}]']),
    ("event payload is an object", ["2{}"]),
    ("event payload is a string", ['2"message"']),
    ("event payload is empty", ["2[]"]),
    ("event without payload", ["2"]),
    ("event name is not a string", ["2[null,1]"]),
    ("event name is a list", ['2[["x"]]']),
    ("event name is a float", ["2[1.5]"]),
    ("ack without id", ['3["bar"]']),
    ("ack payload is an object", ["31{}"]),
    ("ack without payload", ["31"]),
    ("binary ack without id", ['61-[{"_placeholder":true,"num":0}]']),
    ("connect payload is an array", ["0[]"]),
    ("connect payload is a string", ['0"token"']),
    ("connect with an id", ["0/admin,1"]),
    ("disconnect with payload", ["1{}"]),
    ("disconnect with an id", ["15"]),
    ("connect_error without payload", ["4"]),
    ("connect_error with array payload", ["4[1]"]),
    ("binary event without attachment count", ['5["x",{"_placeholder":true,"num":0}]']),
    ("binary event with empty count", ['5-["x"]']),
    ("binary event with letters as count", ['5a-["x"]']),
    ("binary event with non-ASCII digits as count", ['5\u0661-["x"]']),
    ("binary event with a huge count", ["5" + "1" * 5000 + '-["x"]']),
    ("binary event with a long count", ["5" + "9" * 30 + '-["x"]']),
    ("too many attachments", ['511-["x"]']),
    ("huge ack id", ["2" + "9" * 17 + '["x"]']),
    ("ack id over 2**53-1", ['29007199254740992["x"]']),
    ("huge ack on ack", ["3" + "1" * 5000 + "[]"]),
    ("placeholder past the last attachment", ['51-["x",{"_placeholder":true,"num":1}]', b"a"]),
    ("negative placeholder", ['51-["x",{"_placeholder":true,"num":-1}]', b"a"]),
    ("placeholder num is a string", ['51-["x",{"_placeholder":true,"num":"0"}]', b"a"]),
    ("placeholder num is a bool", ['51-["x",{"_placeholder":true,"num":true}]', b"a"]),
    ("placeholder num is a float", ['51-["x",{"_placeholder":true,"num":0.0}]', b"a"]),
    ("placeholder with no attachments", ['50-["x",{"_placeholder":true,"num":0}]']),
    ("nested placeholder out of range", ['61-3[{"a":[{"_placeholder":true,"num":5}]}]', b"a"]),
    (
        "text while attachments are expected",
        ['52-["x",{"_placeholder":true,"num":0}]', b"a", '2["y"]'],
    ),
    ("binary with none expected", [b"\x01\x02"]),
    ("binary after a complete packet", ['2["x"]', b"\x01"]),
    ("deeply nested JSON", ["2" + "[" * 100_000]),
    ("deeply nested valid JSON", ["2" + "[" * 100_000 + "]" * 100_000]),
    ("deeply nested JSON in an object", ['2["x",' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "]"]),
    ("deeply nested binary ack", ["60-1" + "[" * 700 + "]" * 700]),
    ("deeply nested binary event", ['51-["x",' + "[" * 700 + "]" * 700 + "]", b"a"]),
    ("huge number in JSON", ['2["x",' + "1" * 5000 + "]"]),
    ("NaN-like garbage", ['2["x",NaNa]']),
]


@pytest.mark.parametrize("frames", [frames for _, frames in INVALID], ids=[r for r, _ in INVALID])
def test_invalid_input_raises_protocol_error(frames: list[str | bytes]) -> None:
    decoder = Decoder()
    *before, last = frames
    for frame in before:
        decoder.feed(frame)

    with pytest.raises(ProtocolError):
        decoder.feed(last)


@pytest.mark.parametrize("depth", [500, 700, 900, 990, 1_000, 5_000])
def test_nesting_depth_never_escapes_as_recursion_error(depth: int) -> None:
    # Around the interpreter's recursion limit json.loads may accept what the
    # attachment walk cannot handle; either way only ProtocolError may come out.
    nested = "[" * depth + "]" * depth
    cases: list[list[str | bytes]] = [
        [f"60-1{nested}"],
        [f'51-["x",{nested}]', b"a"],
        [f'2["x",{nested}]'],
    ]
    for frames in cases:
        decoder = Decoder()
        try:
            for frame in frames:
                decoder.feed(frame)
        except ProtocolError:
            pass


@pytest.mark.parametrize(
    ("namespace", "ack_id", "expected"),
    [("/", 7, '37[{"ok":true}]'), ("/admin", None, '3/admin,[{"ok":true}]')],
)
def test_pre_encoded_data_goes_into_the_packet_as_it_is(
    namespace: str, ack_id: int | None, expected: str
) -> None:
    packet = SioPacket(PacketType.ACK, namespace, EncodedJSON('[{"ok":true}]'), ack_id)
    assert encode(packet) == [expected]


def test_a_pre_encoded_event_decodes_as_the_same_event() -> None:
    text = encode_event("/", EncodedJSON('["message",{"text":"hé"},"e-1"]'))
    assert text == encode_event("/", ["message", {"text": "hé"}, "e-1"])
