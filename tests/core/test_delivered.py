"""Finding the offsets a node did not broadcast, so that catch-up reads them from the store."""

from __future__ import annotations

from roomcast.core.delivered import DeliveredOffsets


def test_a_room_is_followed_from_a_join_on() -> None:
    offsets = DeliveredOffsets()
    assert offsets.delivered("a", 7)  # nobody joined it here: not followed
    assert offsets.delivered("a", 7)
    offsets.start("b", 3)
    offsets.start("b", 1)  # already followed: unchanged
    assert offsets.resume_point("a") is None
    assert offsets.resume_point("b") == 3


def test_a_repeat_is_reported_so_it_goes_out_once() -> None:
    offsets = DeliveredOffsets()
    offsets.start("r", 2)
    assert not offsets.delivered("r", 2)  # the joiner was given it
    assert offsets.delivered("r", 4)
    assert not offsets.delivered("r", 4)
    assert offsets.delivered("r", 3)
    assert not offsets.delivered("r", 3)


def test_out_of_order_arrivals_fill_their_gap() -> None:
    offsets = DeliveredOffsets()
    offsets.start("r", 0)
    for offset in (2, 3, 1, 5, 4):
        offsets.delivered("r", offset)
    assert offsets.resume_point("r") == 5
    assert offsets.stale_gaps() == []


def test_a_gap_that_survives_a_period_is_stale_and_settling_closes_it() -> None:
    offsets = DeliveredOffsets()
    offsets.start("r", 4)
    offsets.delivered("r", 5)
    offsets.delivered("r", 8)  # 6 and 7 went missing (the bus was down)
    assert offsets.resume_point("r") == 5
    assert offsets.stale_gaps() == []  # first seen: it may still fill
    assert offsets.stale_gaps() == ["r"]
    offsets.delivered("r", 6)  # caught up from the store...
    offsets.delivered("r", 7)
    assert offsets.resume_point("r") == 8  # ...and 8 was already there
    assert offsets.stale_gaps() == []


def test_settle_skips_what_the_store_no_longer_has() -> None:
    offsets = DeliveredOffsets()
    offsets.start("r", 0)
    offsets.delivered("r", 3)
    offsets.delivered("r", 9)
    offsets.settle("r", 3)  # 1 and 2 were trimmed: the store returned 3 only
    assert offsets.resume_point("r") == 3
    offsets.settle("r", 9)
    assert offsets.resume_point("r") == 9
    offsets.settle("r", 2)  # behind: nothing changes
    assert offsets.resume_point("r") == 9


def test_forgotten_rooms_start_again() -> None:
    offsets = DeliveredOffsets()
    offsets.start("r", 4)
    offsets.forget("r")
    assert offsets.rooms() == []
    offsets.start("r", 10)
    assert offsets.resume_point("r") == 10
