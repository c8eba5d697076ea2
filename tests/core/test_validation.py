"""Validation of client payloads: what each ``parse_*`` accepts, and the error it raises."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomcast.core.errors import BadRequest, RoomcastError, TooLarge
from roomcast.core.validation import (
    MAX_CID,
    MAX_HISTORY_LIMIT,
    MAX_NAME,
    HistoryRequest,
    JoinRequest,
    Limits,
    ReadRequest,
    SendRequest,
    StateRequest,
    TypingRequest,
    parse_history,
    parse_join,
    parse_name,
    parse_read,
    parse_room,
    parse_send,
    parse_state,
    parse_typing,
)

LIMITS = Limits(max_text=10, max_data=20, history_page=7)
NOT_OBJECTS = [None, "room", 1, 1.5, True, [], ["room"]]


# --- rooms -------------------------------------------------------------------------------


@pytest.mark.parametrize("room", ["a", "lobby", "A-b_c.9", "-", "a.", ".b", "x" * 64, "0"])
def test_room_accepts_names_of_the_allowed_characters(room: str) -> None:
    assert parse_room(room) == room


@pytest.mark.parametrize(
    "room",
    [
        "",
        ".",
        "..",
        "...",
        "x" * 65,
        "a b",
        "a/b",
        "lobby\n",
        "\nlobby",
        "café",
        "\uff4c\uff4f\uff42\uff42\uff59",  # "lobby" in fullwidth letters
        "٣",  # an Arabic-Indic digit
        "a\x00",
        "a#b",
        None,
        1,
        ["lobby"],
        b"lobby",
    ],
)
def test_room_refuses_anything_else(room: Any) -> None:
    with pytest.raises(BadRequest, match="room"):
        parse_room(room)


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Ada", "Ada"),
        ("  Ada  ", "Ada"),
        ("Ada   Lovelace", "Ada Lovelace"),
        ("Ada\tLovelace\n", "Ada Lovelace"),
        ("Zoë 😀", "Zoë 😀"),
        ("x" * MAX_NAME, "x" * MAX_NAME),
        ("  " + "x" * MAX_NAME + "  ", "x" * MAX_NAME),
    ],
)
def test_name_is_trimmed(raw: str, name: str) -> None:
    assert parse_name(raw) == name


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "\t\n",
        "x" * (MAX_NAME + 1),
        "Ada\x00",
        "Ada\x07bell",
        "Ada\x1b[31m",
        "Ada\x7f",
        "Ada\x80",  # C1 control characters are control characters too
        "Ada\x9b31m",
        "Ada\ud800",  # a lone surrogate cannot be encoded, shown or stored
        "\udfffAda",
        "\u202eexe.evil",  # a right-to-left override: shown as "live.exe"
        "Ada\u2067",  # an isolate
        None,
        42,
        ["Ada"],
    ],
)
def test_name_refuses_empty_long_and_unshowable(raw: Any) -> None:
    with pytest.raises(BadRequest):
        parse_name(raw)


def test_name_keeps_right_to_left_letters_and_joiners() -> None:
    assert parse_name("\u05e2\u05d3\u05d4 Ada") == "\u05e2\u05d3\u05d4 Ada"  # Hebrew
    assert parse_name("\U0001f469\u200d\U0001f52c") == "\U0001f469\u200d\U0001f52c"  # ZWJ emoji


def test_name_length_is_counted_after_trimming() -> None:
    assert parse_name("a" + " " * 100 + "b") == "a b"


# --- join --------------------------------------------------------------------------------


def test_join_defaults() -> None:
    assert parse_join({"room": "lobby"}) == JoinRequest("lobby", None, False)


def test_join_with_since_and_watch() -> None:
    assert parse_join({"room": "lobby", "since": 0, "watch": True}) == JoinRequest("lobby", 0, True)
    assert parse_join({"room": "lobby", "since": 2**53}).since == 2**53


@pytest.mark.parametrize("payload", NOT_OBJECTS)
def test_join_needs_an_object(payload: Any) -> None:
    with pytest.raises(BadRequest, match="object"):
        parse_join(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"room": ""},
        {"room": "a b"},
        {"room": "lobby", "since": -1},
        {"room": "lobby", "since": 2**53 + 1},
        {"room": "lobby", "since": 1.0},
        {"room": "lobby", "since": "3"},
        {"room": "lobby", "since": True},
        {"room": "lobby", "since": False},
        {"room": "lobby", "watch": 1},
        {"room": "lobby", "watch": "true"},
        {"room": "lobby", "watch": None},
    ],
)
def test_join_refuses(payload: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parse_join(payload)


# --- send --------------------------------------------------------------------------------


def test_send_text() -> None:
    assert parse_send({"room": "r", "text": "hi", "cid": "c1"}, LIMITS) == SendRequest(
        "r", "hi", None, "c1"
    )


def test_send_text_is_kept_as_sent() -> None:
    assert parse_send({"room": "r", "text": "  hi\n"}, LIMITS).text == "  hi\n"


def test_send_data_without_cid() -> None:
    request = parse_send({"room": "r", "data": {"n": 1}}, LIMITS)
    assert request == SendRequest("r", None, {"n": 1}, None)


@pytest.mark.parametrize("data", [0, False, "", [], {}])
def test_send_falsy_data_is_still_data(data: Any) -> None:
    assert parse_send({"room": "r", "data": data}, LIMITS).data == data


def test_send_text_and_data_together() -> None:
    request = parse_send({"room": "r", "text": "hi", "data": [1, 2]}, LIMITS)
    assert (request.text, request.data) == ("hi", [1, 2])


def test_send_text_at_the_limit_and_over_it() -> None:
    assert parse_send({"room": "r", "text": "x" * 10}, LIMITS).text == "x" * 10
    with pytest.raises(TooLarge):
        parse_send({"room": "r", "text": "x" * 11}, LIMITS)


def test_send_text_limit_counts_characters_not_bytes() -> None:
    assert parse_send({"room": "r", "text": "é" * 10}, LIMITS).text == "é" * 10


def test_send_data_at_the_limit_and_over_it() -> None:
    fits = "x" * 18  # '"' + 18 + '"' = 20 bytes of JSON
    assert parse_send({"room": "r", "data": fits}, LIMITS).data == fits
    with pytest.raises(TooLarge):
        parse_send({"room": "r", "data": fits + "x"}, LIMITS)


def test_send_data_size_is_compact_json() -> None:
    # {"a":[1,2,3]} is 13 bytes compact; with json.dumps' default spacing it would be 17.
    assert parse_send({"room": "r", "data": {"a": [1, 2, 3]}}, Limits(max_data=13)).data
    with pytest.raises(TooLarge):
        parse_send({"room": "r", "data": {"a": [1, 2, 3]}}, Limits(max_data=12))


def test_send_data_size_is_utf8_bytes_of_json() -> None:
    # "é" is 2 bytes of UTF-8 (the wire encodes it as is); "\u00e9" escapes would be 6.
    data = "é" * 9  # 2 quotes + 18 bytes = 20
    assert parse_send({"room": "r", "data": data}, LIMITS).data == data
    with pytest.raises(TooLarge):
        parse_send({"room": "r", "data": data + "é"}, LIMITS)


@pytest.mark.parametrize("data", [math.nan, math.inf, -math.inf, [1, math.nan], {"x": math.inf}])
def test_send_data_refuses_numbers_json_cannot_carry(data: Any) -> None:
    # json.dumps would write NaN / Infinity, which is not JSON: browsers' JSON.parse fails.
    with pytest.raises(BadRequest, match="JSON"):
        parse_send({"room": "r", "data": data}, LIMITS)


@pytest.mark.parametrize("data", [{1, 2}, b"bytes", object(), {("a", "b"): 1}])
def test_send_data_refuses_values_that_are_not_json(data: Any) -> None:
    with pytest.raises(BadRequest, match="JSON"):
        parse_send({"room": "r", "data": data}, Limits())


def test_send_data_refuses_lone_surrogates() -> None:
    with pytest.raises(BadRequest):
        parse_send({"room": "r", "data": {"k": "\ud800"}}, Limits())


def test_send_data_nested_too_deeply_is_refused() -> None:
    data: Any = 1
    for _ in range(100_000):
        data = [data]
    with pytest.raises(BadRequest, match="JSON"):
        parse_send({"room": "r", "data": data}, Limits(max_data=10**9))


@pytest.mark.parametrize("cid", ["c", "x" * MAX_CID])
def test_send_cid_lengths_accepted(cid: str) -> None:
    assert parse_send({"room": "r", "text": "hi", "cid": cid}, LIMITS).cid == cid


@pytest.mark.parametrize("cid", ["", "x" * (MAX_CID + 1), 1, True, ["c"], {"c": 1}])
def test_send_cid_refused(cid: Any) -> None:
    with pytest.raises(BadRequest, match="cid"):
        parse_send({"room": "r", "text": "hi", "cid": cid}, LIMITS)


@pytest.mark.parametrize("payload", NOT_OBJECTS)
def test_send_needs_an_object(payload: Any) -> None:
    with pytest.raises(BadRequest, match="object"):
        parse_send(payload, LIMITS)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"text": "hi"}, "room"),
        ({"room": "a b", "text": "hi"}, "room"),
        ({"room": "r"}, "text or data"),
        ({"room": "r", "text": None, "data": None}, "text or data"),
        ({"room": "r", "text": ""}, "blank"),
        ({"room": "r", "text": " \n\t "}, "blank"),
        ({"room": "r", "text": 5}, "string"),
        ({"room": "r", "text": ["hi"]}, "string"),
        ({"room": "r", "text": True}, "string"),
        ({"room": "r", "text": "hi\ud800"}, "Unicode"),
    ],
)
def test_send_refuses(payload: dict[str, Any], match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        parse_send(payload, LIMITS)


def test_send_too_large_is_not_reported_as_bad_request() -> None:
    with pytest.raises(TooLarge) as caught:
        parse_send({"room": "r", "text": "x" * 11}, LIMITS)
    assert not isinstance(caught.value, BadRequest)
    assert caught.value.code == "too_large"


# --- typing, read, history, state ---------------------------------------------------------


@pytest.mark.parametrize("typing", [True, False])
def test_typing(typing: bool) -> None:
    assert parse_typing({"room": "r", "typing": typing}) == TypingRequest("r", typing)


@pytest.mark.parametrize(
    "payload",
    [
        *NOT_OBJECTS,
        {"room": "r"},
        {"room": "r", "typing": 1},
        {"room": "r", "typing": 0},
        {"room": "r", "typing": "yes"},
        {"typing": True},
        {"room": "", "typing": True},
    ],
)
def test_typing_refuses(payload: Any) -> None:
    with pytest.raises(BadRequest):
        parse_typing(payload)


@pytest.mark.parametrize("offset", [0, 1, 2**53])
def test_read(offset: int) -> None:
    assert parse_read({"room": "r", "offset": offset}) == ReadRequest("r", offset)


@pytest.mark.parametrize(
    "payload",
    [
        *NOT_OBJECTS,
        {"room": "r"},
        {"room": "r", "offset": None},
        {"room": "r", "offset": -1},
        {"room": "r", "offset": 2**53 + 1},
        {"room": "r", "offset": 1.0},
        {"room": "r", "offset": "1"},
        {"room": "r", "offset": True},
        {"room": "r", "offset": False},
        {"offset": 1},
    ],
)
def test_read_refuses(payload: Any) -> None:
    with pytest.raises(BadRequest):
        parse_read(payload)


def test_history_defaults_to_the_page_size() -> None:
    assert parse_history({"room": "r"}, LIMITS) == HistoryRequest("r", None, 7)


@pytest.mark.parametrize("limit", [1, 50, MAX_HISTORY_LIMIT])
def test_history_limit(limit: int) -> None:
    assert parse_history({"room": "r", "limit": limit, "before": 9}, LIMITS) == HistoryRequest(
        "r", 9, limit
    )


@pytest.mark.parametrize(
    "payload",
    [
        *NOT_OBJECTS,
        {},
        {"room": "r", "limit": 0},
        {"room": "r", "limit": -1},
        {"room": "r", "limit": MAX_HISTORY_LIMIT + 1},
        {"room": "r", "limit": True},
        {"room": "r", "limit": 5.0},
        {"room": "r", "limit": "5"},
        {"room": "r", "limit": None},
        {"room": "r", "before": -1},
        {"room": "r", "before": True},
        {"room": "r", "before": 1.5},
        {"room": "r", "before": "1"},
    ],
)
def test_history_refuses(payload: Any) -> None:
    with pytest.raises(BadRequest):
        parse_history(payload, LIMITS)


@pytest.mark.parametrize("state", ["online", "away"])
def test_state(state: str) -> None:
    assert parse_state({"state": state}) == StateRequest(state)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [*NOT_OBJECTS, {}, {"state": "offline"}, {"state": "Online"}, {"state": None}, {"state": 1}],
)
def test_state_refuses(payload: Any) -> None:
    with pytest.raises(BadRequest):
        parse_state(payload)


# --- no input escapes as anything but a RoomcastError -------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: Python's json.loads accepts them
    | st.text(st.characters()),  # lone surrogates included
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
rooms = st.one_of(st.sampled_from(["lobby", "a.b-c_9"]), st.text(max_size=70), json_values)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"room": rooms},
        optional={
            "text": st.one_of(st.text(st.characters(), max_size=20), json_values),
            "data": json_values,
            "cid": st.one_of(st.text(max_size=130), json_values),
            "since": st.one_of(st.integers(), json_values),
            "watch": json_values,
        },
    ),
)


def _accepted_or_roomcast_error(parse: Any, payload: Any) -> object:
    try:
        result = parse(payload)
    except RoomcastError as error:
        result = error
    if isinstance(result, RoomcastError):
        assert result.code in ("bad_request", "too_large")
    return result


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_parse_send_returns_or_raises_a_roomcast_error(payload: Any) -> None:
    result = _accepted_or_roomcast_error(lambda p: parse_send(p, LIMITS), payload)
    if isinstance(result, SendRequest):
        assert result.text is not None or result.data is not None
        if result.data is not None:
            # what is accepted is real JSON, within the limit
            encoded = json.dumps(result.data, allow_nan=False, ensure_ascii=False)
            assert len(encoded.encode("utf-8")) <= LIMITS.max_data + 20  # default spacing


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_parse_join_returns_or_raises_a_roomcast_error(payload: Any) -> None:
    result = _accepted_or_roomcast_error(parse_join, payload)
    if isinstance(result, JoinRequest):
        assert parse_room(result.room) == result.room
        assert result.since is None or (type(result.since) is int and result.since >= 0)
