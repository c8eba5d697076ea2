"""The contract every :class:`roomcast.ports.Store` passes, run against each adapter."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from roomcast.adapters.store import MemoryStore, SqliteStore
from roomcast.core.policy import RoomPolicy
from roomcast.errors import BadRequest, Unavailable
from roomcast.ports import (
    ApiKey,
    MessageDraft,
    RoomSummary,
    Sender,
    Store,
    StoredMessage,
    TimelineEvent,
)

ADA = Sender("u-ada", "Ada")
BOB = Sender("u-bob", "Bob")
T0 = 1_700_000_000_000


def text(
    room: str, body: str, *, cid: str | None = None, sender: Sender | None = ADA, ts: int = T0
) -> MessageDraft:
    return MessageDraft(room=room, kind="text", ts=ts, sender=sender, text=body, cid=cid)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store = (
        MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "db.sqlite")
    )
    await opened.open()
    yield opened
    await opened.close()


async def fill(store: Store, room: str, count: int) -> list[StoredMessage]:
    return [await store.append(text(room, f"m{i}", ts=T0 + i)) for i in range(1, count + 1)]


def offsets(messages: list[StoredMessage]) -> list[int]:
    return [m.offset for m in messages]


async def test_offsets_start_at_one_and_messages_keep_their_fields(store: Store) -> None:
    first = await store.append(text("lobby", "hello", cid="c1"))
    second = await store.append(text("lobby", "again", sender=BOB, ts=T0 + 5))

    assert (first.offset, second.offset) == (1, 2)
    assert len({first.id, second.id} - {""}) == 2
    assert (first.room, first.ts, first.kind, first.sender) == ("lobby", T0, "text", ADA)
    assert (first.text, first.data, first.cid) == ("hello", None, "c1")
    assert await store.last_offset("lobby") == 2
    assert await store.read("lobby") == [first, second]


async def test_offsets_are_gapless_under_concurrent_appends(store: Store) -> None:
    drafts = [text("a" if i % 2 else "b", f"m{i}") for i in range(200)]

    stored = await asyncio.gather(*(store.append(d) for d in drafts))

    for room in ("a", "b"):
        mine = [m for m in stored if m.room == room]
        assert sorted(offsets(mine)) == list(range(1, 101))
        history = await store.read(room, limit=200)
        assert offsets(history) == list(range(1, 101))
        assert {m.id: m.offset for m in history} == {m.id: m.offset for m in mine}
        assert await store.last_offset(room) == 100
    assert len({m.id for m in stored}) == 200


async def test_append_many_keeps_order_across_rooms(store: Store) -> None:
    drafts = [text("a", "a1"), text("b", "b1"), text("a", "a2"), text("a", "a3")]

    stored = await store.append_many(drafts)

    assert [(m.room, m.offset, m.text) for m in stored] == [
        ("a", 1, "a1"),
        ("b", 1, "b1"),
        ("a", 2, "a2"),
        ("a", 3, "a3"),
    ]
    assert [m.text for m in await store.read("a")] == ["a1", "a2", "a3"]
    assert await store.append_many([]) == []


async def test_retry_with_same_cid_returns_the_stored_message(store: Store) -> None:
    original = await store.append(text("lobby", "hi", cid="c1"))
    await store.append(text("lobby", "other"))

    retry = await store.append(text("lobby", "edited", cid="c1", ts=T0 + 99))

    assert retry == original
    assert await store.last_offset("lobby") == 2
    assert [m.text for m in await store.read("lobby")] == ["hi", "other"]


async def test_concurrent_retries_store_one_message(store: Store) -> None:
    draft = text("lobby", "hi", cid="c1")

    results = await asyncio.gather(*(store.append(draft) for _ in range(3)))
    batch = await store.append_many([draft, text("lobby", "x", cid="c2"), draft])

    assert results[0] == results[1] == results[2] == batch[0] == batch[2]
    assert results[0].offset == 1
    assert batch[1].offset == 2
    assert await store.last_offset("lobby") == 2


async def test_retries_in_one_append_many_store_one_message(store: Store) -> None:
    draft = text("lobby", "hi", cid="c1")

    first, second = await store.append_many([draft, dataclasses.replace(draft, text="dup")])

    assert first == second
    assert first.text == "hi"
    assert offsets(await store.read("lobby")) == [1]


async def test_cid_is_scoped_by_sender_and_room(store: Store) -> None:
    ada = await store.append(text("lobby", "from ada", cid="c1"))
    bob = await store.append(text("lobby", "from bob", cid="c1", sender=BOB))
    anon = await store.append(text("lobby", "anonymous", cid="c1", sender=None))
    elsewhere = await store.append(text("other", "from ada", cid="c1"))
    anon_retry = await store.append(text("lobby", "anonymous again", cid="c1", sender=None))

    assert offsets([ada, bob, anon]) == [1, 2, 3]
    assert len({ada.id, bob.id, anon.id, elsewhere.id}) == 4
    assert elsewhere.offset == 1
    assert anon_retry == anon
    assert anon.sender is None
    assert await store.last_offset("lobby") == 3


async def test_messages_without_cid_are_never_merged(store: Store) -> None:
    first = await store.append(text("lobby", "same"))
    second = await store.append(text("lobby", "same"))

    assert first.id != second.id
    assert offsets([first, second]) == [1, 2]


async def test_read_windows(store: Store) -> None:
    await fill(store, "lobby", 10)
    await fill(store, "other", 3)

    async def window(**kwargs: Any) -> list[int]:
        return offsets(await store.read("lobby", **kwargs))

    assert await window() == list(range(1, 11))
    assert await window(limit=3) == [8, 9, 10]
    assert await window(since=3, limit=4) == [4, 5, 6, 7]
    assert await window(since=8) == [9, 10]
    assert await window(since=0, limit=2) == [1, 2]
    assert await window(since=10) == []
    assert await window(before=5, limit=2) == [3, 4]
    assert await window(before=5) == [1, 2, 3, 4]
    assert await window(before=1) == []
    assert await window(before=99, limit=2) == [9, 10]
    assert await window(since=2, before=6) == [3, 4, 5]
    assert await window(since=2, before=9, limit=2) == [3, 4]
    assert await window(limit=0) == []
    assert [m.text for m in await store.read("lobby", since=8)] == ["m9", "m10"]
    assert await store.read("nowhere") == []
    with pytest.raises(BadRequest):
        await store.read("lobby", limit=-1)


async def test_empty_room(store: Store) -> None:
    assert await store.last_offset("nowhere") == 0
    assert await store.get_read("nowhere", "u-ada") == 0
    assert await store.rooms() == []


async def test_read_position_never_moves_backwards(store: Store) -> None:
    await store.set_read("lobby", "u-ada", 5)
    await store.set_read("lobby", "u-ada", 3)
    assert await store.get_read("lobby", "u-ada") == 5

    await store.set_read("lobby", "u-ada", 7)
    await asyncio.gather(*(store.set_read("lobby", "u-bob", n) for n in (4, 9, 2)))

    assert await store.get_read("lobby", "u-ada") == 7
    assert await store.get_read("lobby", "u-bob") == 9
    assert await store.get_read("other", "u-ada") == 0
    with pytest.raises(BadRequest):
        await store.set_read("lobby", "u-ada", -1)


async def test_rooms_most_recently_active_first(store: Store) -> None:
    await store.append(text("a", "1", ts=T0 + 1))
    await store.append(text("b", "1", ts=T0 + 2, cid="b1"))
    await store.append(text("c", "1", ts=T0 + 2))
    await store.append(text("a", "2", ts=T0 + 2))
    await store.append(text("b", "retry", ts=T0 + 50, cid="b1"))  # a retry is not activity

    assert await store.rooms() == [
        RoomSummary("a", last_offset=2, last_ts=T0 + 2),
        RoomSummary("c", last_offset=1, last_ts=T0 + 2),
        RoomSummary("b", last_offset=1, last_ts=T0 + 2),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"nested": {"list": [1, 2.5, None, True, False, {"deep": ["x"]}]}, "empty": {}},
        ["héllo", "日本語", "مرحبا", "👩‍💻", "\u2028"],
        "quotes \" ' and \\ backslash\nnew line\ttab",
        0,
        False,
        "",
        2**70,
        -1.5e-300,
    ],
    ids=["nested", "unicode", "quotes", "zero", "false", "empty-string", "big-int", "float"],
)
async def test_data_round_trips_exactly(store: Store, data: Any) -> None:
    draft = MessageDraft(room="feed", kind="data", ts=T0, data=data)

    stored = await store.append(draft)
    (read,) = await store.read("feed")

    assert stored.data == data
    assert type(stored.data) is type(data)
    assert read == stored


async def test_text_round_trips_exactly(store: Store) -> None:
    body = "She said \"hi\" 'there'\nline two\r\n\ttab \\ 🎉 日本語 \x00 end"
    sender = Sender('id "quoted"\n', "Zoë 'the' 🦊")

    stored = await store.append(text("lobby", body, sender=sender, cid="ç'id\""))
    (read,) = await store.read("lobby")

    assert read == stored
    assert (read.text, read.sender, read.cid) == (body, sender, "ç'id\"")


async def test_to_wire_shape(store: Store) -> None:
    chat = await store.append(text("lobby", "hi", cid="c1"))
    feed = await store.append(MessageDraft(room="feed", kind="data", ts=T0, data={"n": 1}))

    assert chat.to_wire() == {
        "room": "lobby",
        "offset": 1,
        "id": chat.id,
        "ts": T0,
        "kind": "text",
        "sender": {"id": "u-ada", "name": "Ada"},
        "text": "hi",
        "cid": "c1",
    }
    assert feed.to_wire() == {
        "room": "feed",
        "offset": 1,
        "id": feed.id,
        "ts": T0,
        "kind": "data",
        "sender": None,
        "data": {"n": 1},
    }


@pytest.mark.parametrize(
    "draft",
    [
        MessageDraft(room="lobby", kind="data", ts=T0, data={1, 2}),
        MessageDraft(room="lobby", kind="data", ts=T0, data={"x": float("nan")}),
        MessageDraft(room="lobby", kind="data", ts=T0, data=object()),
        MessageDraft(room="lobby", kind="data", ts=T0, data=["\ud800"]),
        text("lobby", "lone \udc00 surrogate"),
        text("lobby", "ts too big", ts=2**64),
    ],
    ids=["set", "nan", "object", "surrogate-in-data", "surrogate-in-text", "huge-ts"],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    store: Store, draft: MessageDraft
) -> None:
    with pytest.raises(BadRequest):
        await store.append(draft)
    with pytest.raises(BadRequest):
        await store.append_many([text("lobby", "fine"), draft])

    assert await store.last_offset("lobby") == 0
    assert (await store.append(text("lobby", "after"))).offset == 1


async def test_closed_store_refuses_every_call(store: Store) -> None:
    await store.append(text("lobby", "hi"))
    await store.close()

    calls = [
        store.append(text("lobby", "late")),
        store.append_many([text("lobby", "late")]),
        store.read("lobby"),
        store.last_offset("lobby"),
        store.set_read("lobby", "u-ada", 1),
        store.get_read("lobby", "u-ada"),
        store.rooms(),
        store.trim("lobby", below_offset=5),
        store.set_policy("lobby", RoomPolicy(client_posts=False)),
        store.policies(),
        store.add_key("cron", "d" * 64, T0),
        store.revoke_key("cron"),
        store.key_name("d" * 64),
        store.keys(),
        store.add_events([TimelineEvent("lobby", T0, "note", data={"text": "late"})]),
        store.events("lobby"),
    ]
    for call in calls:
        with pytest.raises(Unavailable):
            await call


async def test_trim_by_offset_keeps_offsets_and_the_newest(store: Store) -> None:
    await fill(store, "feed", 10)
    await fill(store, "other", 3)

    assert await store.trim("feed", below_offset=8) == 7
    assert offsets(await store.read("feed")) == [8, 9, 10]
    assert offsets(await store.read("feed", since=2)) == [8, 9, 10]
    assert offsets(await store.read("feed", before=10, limit=5)) == [8, 9]
    assert await store.last_offset("feed") == 10
    assert (await store.append(text("feed", "next"))).offset == 11
    assert offsets(await store.read("other")) == [1, 2, 3]
    # Asked to delete everything, it keeps the last value.
    assert await store.trim("feed", below_offset=100) == 3
    assert [m.text for m in await store.read("feed")] == ["next"]
    assert (await store.rooms())[0] == RoomSummary("feed", 11, T0)


async def test_trim_by_time_deletes_only_older_messages(store: Store) -> None:
    await fill(store, "feed", 6)  # ts T0+1 .. T0+6

    assert await store.trim("feed", before_ts=T0 + 4) == 3
    assert offsets(await store.read("feed")) == [4, 5, 6]
    assert await store.trim("feed", before_ts=T0 + 100, below_offset=None) == 2
    assert offsets(await store.read("feed")) == [6]
    assert await store.trim("empty", below_offset=3, before_ts=T0) == 0
    assert await store.trim("feed") == 0


async def test_policies_are_remembered_and_replaced(store: Store) -> None:
    assert await store.policies() == {}
    feed = RoomPolicy(client_posts=False, keep_last=100, keep_for=3600.0)
    await store.set_policy("ticker", feed)
    await store.set_policy("chat", RoomPolicy())
    await store.set_policy("chat", RoomPolicy(keep_last=5))

    assert await store.policies() == {"ticker": feed, "chat": RoomPolicy(keep_last=5)}


async def test_api_keys_are_found_by_digest_listed_and_revoked(store: Store) -> None:
    await store.add_key("cron", "a" * 64, T0 + 1)
    await store.add_key("ci", "b" * 64, T0)
    with pytest.raises(BadRequest, match="'cron' exists"):
        await store.add_key("cron", "c" * 64, T0 + 2)

    assert await store.key_name("a" * 64) == "cron"
    assert await store.key_name("c" * 64) is None
    assert await store.keys() == [ApiKey("ci", T0), ApiKey("cron", T0 + 1)]
    assert await store.revoke_key("cron") is True
    assert await store.revoke_key("cron") is False
    assert await store.key_name("a" * 64) is None
    assert await store.keys() == [ApiKey("ci", T0)]


async def test_timeline_events_round_trip_in_order_per_room(store: Store) -> None:
    ada = Sender("n-ada", 'Ada, "the" tester ü')
    recorded = await store.add_events(
        [
            TimelineEvent("study-1", T0, "join", ada),
            TimelineEvent("study-2", T0 + 1, "join", Sender("n-bo", "Bo")),
            TimelineEvent("study-1", T0 + 2, "step", ada, {"step": "checkout", "data": {"n": 2}}),
        ]
    )
    await store.add_events([TimelineEvent("study-1", T0 + 3, "note", None, {"text": "hm"})])
    assert await store.add_events([]) == []

    first = await store.events("study-1")
    assert [(e.kind, e.ts, e.actor, e.data) for e in first] == [
        ("join", T0, ada, None),
        ("step", T0 + 2, ada, {"step": "checkout", "data": {"n": 2}}),
        ("note", T0 + 3, None, {"text": "hm"}),
    ]
    seqs = [event.seq for event in first]
    assert seqs == sorted(seqs) and seqs[0] > 0
    assert [recorded[0], recorded[2]] == first[:2]
    assert await store.events("study-1", after=seqs[0], limit=1) == first[1:2]
    assert await store.events("study-1", after=seqs[-1]) == []
    assert [e.kind for e in await store.events("study-2")] == ["join"]
    assert await store.events("nowhere") == []


@pytest.mark.parametrize(
    "event",
    [
        TimelineEvent("r", T0, "dance"),  # type: ignore[arg-type]
        TimelineEvent("r", T0, "note", data={"x": float("nan")}),
        TimelineEvent("r", T0, "note", data={1, 2}),
        TimelineEvent("r\ud800", T0, "note"),
        TimelineEvent("r", 2**64, "note"),
        TimelineEvent("r", T0, "join", Sender("n-x", "\udfff")),
    ],
)
async def test_bad_timeline_events_are_refused_and_nothing_is_recorded(
    store: Store, event: TimelineEvent
) -> None:
    with pytest.raises(BadRequest):
        await store.add_events([TimelineEvent("r", T0, "note"), event])
    assert await store.events("r") == []
