"""Each room's messages once, in offset order: the sans-I/O part of the clients."""

from __future__ import annotations

from typing import Any

from roomcast.client.ordering import RoomOrder


def msg(offset: int) -> dict[str, Any]:
    return {"room": "r", "offset": offset, "text": f"m{offset}"}


def offsets(messages: list[dict[str, Any]]) -> list[int]:
    return [m["offset"] for m in messages]


def test_in_order_messages_pass_and_duplicates_do_not() -> None:
    order = RoomOrder(0)

    assert offsets(order.accept(msg(1))) == [1]
    assert offsets(order.accept(msg(2))) == [2]
    assert order.accept(msg(2)) == []
    assert order.accept(msg(1)) == []
    assert order.delivered == 2


def test_a_message_ahead_waits_for_the_gap_to_fill() -> None:
    order = RoomOrder(3)

    assert order.accept(msg(6)) == []
    assert order.has_gap
    assert order.accept(msg(5)) == []
    assert offsets(order.accept(msg(4))) == [4, 5, 6]
    assert not order.has_gap
    assert order.delivered == 6


def test_before_start_messages_are_held_then_cut_at_the_start() -> None:
    order = RoomOrder(None)

    assert not order.started
    assert order.accept(msg(7)) == []
    assert order.accept(msg(8)) == []
    assert not order.has_gap  # nothing is missing before the start is known

    assert offsets(order.start(7)) == [8]
    assert order.delivered == 8


def test_a_resume_ack_and_live_messages_interleave_without_loss_or_repeat() -> None:
    order = RoomOrder(2)
    live_first = order.accept(msg(6))  # a live broadcast overtakes the resume ack

    resumed = [m for o in (3, 4, 5, 6) for m in order.accept(msg(o))]

    assert live_first == []
    assert offsets(resumed) == [3, 4, 5, 6]


def test_messages_without_an_integer_offset_are_ignored() -> None:
    order = RoomOrder(0)

    assert order.accept({"room": "r", "offset": "1"}) == []
    assert order.accept({"room": "r", "offset": True}) == []
    assert order.accept({"room": "r"}) == []
    assert order.delivered == 0
