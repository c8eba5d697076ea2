"""Presence: members, their connections, online/away/offline, typing, and what changed."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomcast.core import presence as presence_module
from roomcast.core.presence import PresenceRegistry, RoomPresence


def wire(room: RoomPresence) -> list[tuple[str, str, str, bool]]:
    return [(m["id"], m["name"], m["state"], m["typing"]) for m in room.snapshot()]


def test_an_empty_room_has_no_members() -> None:
    room = RoomPresence()
    assert room.snapshot() == []
    assert not room.is_present("u-ada")


def test_first_connection_adds_an_online_member() -> None:
    room = RoomPresence()
    assert room.add("u-ada", "Ada", "c1", "online") is True
    assert room.snapshot() == [{"id": "u-ada", "name": "Ada", "state": "online", "typing": False}]
    assert room.is_present("u-ada")


def test_one_member_with_two_connections_is_one_member() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    assert room.add("u-ada", "Ada", "tab2", "online") is False
    assert wire(room) == [("u-ada", "Ada", "online", False)]


def test_online_while_any_connection_is_visible() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "away")
    assert wire(room)[0][2] == "away"
    assert room.add("u-ada", "Ada", "tab2", "online") is True
    assert wire(room)[0][2] == "online"
    assert room.set_state("u-ada", "tab2", "away") is True
    assert wire(room)[0][2] == "away"
    assert room.set_state("u-ada", "tab1", "online") is True
    assert wire(room)[0][2] == "online"
    # a second visible tab changes nothing that clients see
    assert room.set_state("u-ada", "tab2", "online") is False
    assert room.set_state("u-ada", "tab2", "away") is False
    assert wire(room)[0][2] == "online"


def test_closing_one_of_two_connections_changes_nothing() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    room.add("u-ada", "Ada", "tab2", "online")
    assert room.remove("u-ada", "tab1") is False
    assert wire(room) == [("u-ada", "Ada", "online", False)]
    assert room.is_present("u-ada")


def test_closing_the_online_tab_leaves_an_away_member() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    room.add("u-ada", "Ada", "tab2", "away")
    assert room.remove("u-ada", "tab1") is True
    assert wire(room) == [("u-ada", "Ada", "away", False)]


def test_last_connection_leaving_makes_the_member_offline_and_not_typing() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    room.add("u-ada", "Ada", "tab2", "online")
    assert room.set_typing("u-ada", True) is True
    room.remove("u-ada", "tab1")
    assert wire(room) == [("u-ada", "Ada", "online", True)]
    assert room.remove("u-ada", "tab2") is True
    assert wire(room) == [("u-ada", "Ada", "offline", False)]
    assert not room.is_present("u-ada")


def test_offline_member_comes_back_online() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    room.remove("u-ada", "tab1")
    assert room.add("u-ada", "Ada", "tab3", "online") is True
    assert wire(room) == [("u-ada", "Ada", "online", False)]


def test_rejoining_under_a_new_spelling_updates_the_name() -> None:
    room = RoomPresence()
    room.add("u-ada", "ada", "tab1", "online")
    assert room.add("u-ada", "Ada", "tab2", "online") is True
    assert wire(room) == [("u-ada", "Ada", "online", False)]


def test_remove_of_unknown_member_or_connection_changes_nothing() -> None:
    room = RoomPresence()
    assert room.remove("u-nobody", "c1") is False
    room.add("u-ada", "Ada", "tab1", "online")
    assert room.remove("u-ada", "tab-unknown") is False
    assert room.remove("u-ada", "tab1") is True
    assert room.remove("u-ada", "tab1") is False
    assert wire(room) == [("u-ada", "Ada", "offline", False)]


def test_set_state_of_unknown_member_or_connection_changes_nothing() -> None:
    room = RoomPresence()
    assert room.set_state("u-nobody", "c1", "away") is False
    room.add("u-ada", "Ada", "tab1", "online")
    assert room.set_state("u-ada", "tab-unknown", "away") is False
    assert wire(room) == [("u-ada", "Ada", "online", False)]
    # set_state does not add a connection
    room.remove("u-ada", "tab1")
    assert room.set_state("u-ada", "tab1", "online") is False
    assert wire(room) == [("u-ada", "Ada", "offline", False)]
    assert room.members == {"u-ada": room.members["u-ada"]}


def test_typing_changes_only_when_it_flips() -> None:
    room = RoomPresence()
    room.add("u-ada", "Ada", "tab1", "online")
    assert room.set_typing("u-ada", False) is False
    assert room.set_typing("u-ada", True) is True
    assert room.set_typing("u-ada", True) is False
    assert wire(room) == [("u-ada", "Ada", "online", True)]
    assert room.set_typing("u-ada", False) is True
    assert wire(room) == [("u-ada", "Ada", "online", False)]


def test_typing_of_an_absent_member_is_ignored() -> None:
    room = RoomPresence()
    assert room.set_typing("u-nobody", True) is False
    assert room.snapshot() == []
    room.add("u-ada", "Ada", "tab1", "online")
    room.remove("u-ada", "tab1")
    assert room.set_typing("u-ada", True) is False
    assert wire(room) == [("u-ada", "Ada", "offline", False)]


def test_snapshot_orders_online_away_offline_then_by_name() -> None:
    room = RoomPresence()
    room.add("u-zed", "zed", "c1", "online")
    room.add("u-bob", "Bob", "c2", "away")
    room.add("u-amy", "amy", "c3", "online")
    room.add("u-cat", "Cat", "c4", "online")
    room.remove("u-cat", "c4")
    room.add("u-al", "Al", "c5", "away")
    room.add("u-ben", "ben", "c6", "online")
    room.remove("u-ben", "c6")
    room.add("u-Ann", "Ann", "c7", "online")
    assert [(m["name"], m["state"]) for m in room.snapshot()] == [
        ("amy", "online"),
        ("Ann", "online"),
        ("zed", "online"),
        ("Al", "away"),
        ("Bob", "away"),
        ("ben", "offline"),
        ("Cat", "offline"),
    ]


def test_snapshot_of_two_members_with_one_name_is_stable() -> None:
    room = RoomPresence()
    room.add("u-2", "Ada", "c1", "online")
    room.add("u-1", "Ada", "c2", "online")
    assert [m["id"] for m in room.snapshot()] == ["u-1", "u-2"]


def test_offline_members_are_remembered_up_to_a_cap() -> None:
    cap = presence_module._MAX_OFFLINE
    room = RoomPresence()
    for i in range(cap + 5):
        room.add(f"u-{i}", f"m{i:04}", f"c{i}", "online")
    for i in range(cap + 5):
        room.remove(f"u-{i}", f"c{i}")
    room.add("u-new", "new", "c-new", "online")
    states = [m["state"] for m in room.snapshot()]
    assert states.count("online") == 1
    assert states.count("offline") == cap
    assert len(room.members) == cap + 1


def test_the_cap_holds_after_members_leave() -> None:
    cap = presence_module._MAX_OFFLINE
    room = RoomPresence()
    for i in range(cap + 5):
        room.add(f"u-{i}", f"m{i:04}", f"c{i}", "online")
    for i in range(cap + 5):
        room.remove(f"u-{i}", f"c{i}")
        assert sum(1 for m in room.members.values() if not m.connections) <= cap


def test_the_members_forgotten_first_are_those_offline_longest() -> None:
    with mock.patch.object(presence_module, "_MAX_OFFLINE", 2):
        room = RoomPresence()
        for name in ("a", "b", "c"):
            room.add(f"u-{name}", name, f"c-{name}", "online")
        # "a" joined first but leaves last: it is the most recent offline member.
        room.remove("u-b", "c-b")
        room.remove("u-c", "c-c")
        room.remove("u-a", "c-a")
        room.add("u-d", "d", "c-d", "online")
        assert wire(room) == [
            ("u-d", "d", "online", False),
            ("u-a", "a", "offline", False),
            ("u-c", "c", "offline", False),
        ]


def test_online_members_are_never_forgotten() -> None:
    with mock.patch.object(presence_module, "_MAX_OFFLINE", 1):
        room = RoomPresence()
        for i in range(5):
            room.add(f"u-{i}", f"m{i}", f"c{i}", "online")
        for i in range(3):
            room.remove(f"u-{i}", f"c{i}")
        room.add("u-9", "m9", "c9", "away")
        assert [m["state"] for m in room.snapshot()] == ["online", "online", "away", "offline"]


MEMBERS = ["u-a", "u-b", "u-c", "u-d"]
CONNS = ["c1", "c2", "c3"]
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.sampled_from(MEMBERS),
            st.sampled_from(["Ann", "ann", "Bob"]),
            st.sampled_from(CONNS),
            st.sampled_from(["online", "away"]),
        ),
        st.tuples(st.just("remove"), st.sampled_from(MEMBERS), st.sampled_from(CONNS)),
        st.tuples(
            st.just("set_state"),
            st.sampled_from(MEMBERS),
            st.sampled_from(CONNS),
            st.sampled_from(["online", "away"]),
        ),
        st.tuples(st.just("set_typing"), st.sampled_from(MEMBERS), st.booleans()),
    ),
    max_size=40,
)


@pytest.mark.parametrize("cap", [1, 2, 200])
@settings(max_examples=300, deadline=None)
@given(ops=operations)
def test_changed_is_true_exactly_when_the_snapshot_changes(
    cap: int, ops: list[tuple[Any, ...]]
) -> None:
    with mock.patch.object(presence_module, "_MAX_OFFLINE", cap):
        room = RoomPresence()
        for name, *args in ops:
            before = room.snapshot()
            changed = getattr(room, name)(*args)
            after = room.snapshot()
            assert changed is (before != after), (name, args, before, after)
            assert sum(1 for m in after if m["state"] == "offline") <= cap
            for member in after:
                assert not (member["state"] == "offline" and member["typing"])


def test_registry_creates_rooms_on_demand() -> None:
    registry = PresenceRegistry()
    assert registry.peek("lobby") is None
    assert registry.online_count("lobby") == 0
    room = registry.room("lobby")
    assert registry.room("lobby") is room
    assert registry.peek("lobby") is room
    assert registry.peek("other") is None


def test_registry_online_count_counts_present_members_once() -> None:
    registry = PresenceRegistry()
    lobby = registry.room("lobby")
    lobby.add("u-ada", "Ada", "tab1", "online")
    lobby.add("u-ada", "Ada", "tab2", "away")
    lobby.add("u-bob", "Bob", "tab3", "away")
    lobby.add("u-cat", "Cat", "tab4", "online")
    lobby.remove("u-cat", "tab4")
    registry.room("other").add("u-dan", "Dan", "tab5", "online")
    assert registry.online_count("lobby") == 2
    assert registry.online_count("other") == 1


def leave_offline(registry: PresenceRegistry, room: str, member_id: str) -> None:
    registry.room(room).add(member_id, member_id, f"c-{member_id}", "online")
    registry.room(room).remove(member_id, f"c-{member_id}")


def test_offline_members_are_bounded_over_all_rooms() -> None:
    total = presence_module._MAX_OFFLINE_TOTAL
    with mock.patch.object(presence_module, "_MAX_OFFLINE_TOTAL", 6):
        registry = PresenceRegistry()
        for k in range(5):
            for member in ("a", "b"):
                leave_offline(registry, f"r{k}", f"u-{member}")
        assert len(registry.offline) == 6
        offline = sum(len(registry.room(f"r{k}").members) for k in range(5))
        assert offline == 6
    assert total >= presence_module._MAX_OFFLINE * 100  # a hundred busy rooms fit


def test_the_oldest_offline_anywhere_go_first_and_their_empty_rooms_with_them() -> None:
    with mock.patch.object(presence_module, "_MAX_OFFLINE_TOTAL", 3):
        registry = PresenceRegistry()
        leave_offline(registry, "old", "u-a")
        leave_offline(registry, "mid", "u-b")
        registry.room("mid").add("u-c", "Cat", "c-c", "online")
        leave_offline(registry, "new", "u-d")
        leave_offline(registry, "new", "u-e")
        assert registry.peek("old") is None  # its only member was forgotten
        assert registry.rooms() == ["mid", "new"]
        assert wire(registry.room("mid")) == [
            ("u-c", "Cat", "online", False),
            ("u-b", "u-b", "offline", False),
        ]
        leave_offline(registry, "new", "u-f")
        assert wire(registry.room("mid")) == [("u-c", "Cat", "online", False)]
        assert registry.peek("mid") is not None  # Cat is still there


def test_a_member_back_online_is_no_longer_counted_offline() -> None:
    registry = PresenceRegistry()
    leave_offline(registry, "lobby", "u-a")
    assert len(registry.offline) == 1
    registry.room("lobby").add("u-a", "Ada", "c-2", "online")
    assert len(registry.offline) == 0
    registry.room("lobby").remove("u-a", "c-2")
    assert len(registry.offline) == 1


def test_members_forgotten_by_a_rooms_cap_leave_the_ledger() -> None:
    with mock.patch.object(presence_module, "_MAX_OFFLINE", 2):
        registry = PresenceRegistry()
        for member in ("a", "b", "c", "d"):
            leave_offline(registry, "lobby", f"u-{member}")
        assert len(registry.offline) == 2
        assert [m["id"] for m in registry.room("lobby").snapshot()] == ["u-c", "u-d"]
