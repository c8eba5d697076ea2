"""Merging the presence shares of several nodes, and telling dead nodes from live ones."""

from __future__ import annotations

import pytest

from roomcast.core.cluster import (
    NodeMember,
    NodeTable,
    connection_key,
    node_members,
    replace_node,
)
from roomcast.core.presence import RoomPresence


def names(presence: RoomPresence) -> list[tuple[str, str]]:
    return [(m["name"], m["state"]) for m in presence.snapshot()]


def test_a_node_share_is_read_out_with_its_own_connection_ids() -> None:
    room = RoomPresence()
    room.add("ada", "Ada", connection_key("a", "s1"), "online")
    room.add("ada", "Ada", connection_key("b", "s2"), "away")
    room.add("bob", "Bob", connection_key("b", "s3"), "online")
    assert node_members(room, "a") == [NodeMember("ada", "Ada", {"s1": "online"})]
    assert node_members(room, "b") == [
        NodeMember("ada", "Ada", {"s2": "away"}),
        NodeMember("bob", "Bob", {"s3": "online"}),
    ]


def test_replacing_a_share_merges_it_and_reports_changes_only() -> None:
    room = RoomPresence()
    room.add("ada", "Ada", connection_key("a", "s1"), "online")
    share = [NodeMember("bob", "Bob", {"s9": "online"})]
    assert replace_node(room, "b", share)
    assert names(room) == [("Ada", "online"), ("Bob", "online")]
    assert not replace_node(room, "b", share)  # the same share again: nothing to show
    assert replace_node(room, "b", [NodeMember("bob", "Bob", {"s9": "away"})])
    assert names(room) == [("Ada", "online"), ("Bob", "away")]


def test_an_empty_share_takes_a_nodes_members_offline_and_keeps_the_others() -> None:
    room = RoomPresence()
    room.add("ada", "Ada", connection_key("a", "s1"), "online")
    replace_node(room, "b", [NodeMember("ada", "Ada", {"s2": "online"})])
    replace_node(room, "b", [NodeMember("bob", "Bob", {"s3": "online"})])
    assert replace_node(room, "b", [])
    # Ada is still online through node a; Bob stays listed, offline.
    assert names(room) == [("Ada", "online"), ("Bob", "offline")]
    assert node_members(room, "a") == [NodeMember("ada", "Ada", {"s1": "online"})]


def test_a_member_round_trips_through_the_wire_and_bad_ones_are_refused() -> None:
    member = NodeMember("ada", "Ada", {"s1": "online", "s2": "away"})
    assert NodeMember.from_wire(member.to_wire()) == member
    bad_members = [
        None,
        {"id": 1, "name": "x", "conns": {}},
        {"id": "a", "name": "A", "conns": {"s": "gone"}},
    ]
    for bad in bad_members:
        with pytest.raises(ValueError, match="member"):
            NodeMember.from_wire(bad)


def test_nodes_silent_for_longer_than_the_ttl_are_dead() -> None:
    table = NodeTable("me", ttl=6.0)
    assert table.heard("a", 0.0)
    assert not table.heard("a", 2.0)
    assert table.heard("b", 3.0)
    assert table.expired(8.0) == []
    assert table.expired(8.5) == ["a"]
    assert table.alive() == ["b"]
    assert table.heard("a", 9.0)  # back after being declared dead: new again
    assert table.forget("b") and not table.forget("b")
