"""Several server processes ("nodes") as one server: who is alive, and whose connections are where.

Every node keeps one merged :class:`~roomcast.core.presence.PresenceRegistry` for the whole
cluster. A connection's key in it is ``"<node>/<sid>"``, so a node's share of a room can be
read out (:func:`node_members`, what it publishes) and replaced wholesale with what another
node published (:func:`replace_node`). Publishing a node's *whole* share of a room, never a
delta, makes a lost or repeated publication harmless: the next one puts things right.

:class:`NodeTable` keeps when each other node was last heard from; a node silent for longer
than the TTL (killed, cut off) is dead, and its connections are dropped from presence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomcast.core.presence import ConnectionState, RoomPresence

__all__ = ["NodeMember", "NodeTable", "connection_key", "node_members", "replace_node"]


@dataclass(frozen=True, slots=True)
class NodeMember:
    """A member as one node sees it: its connections on that node and their states."""

    id: str
    name: str
    connections: dict[str, ConnectionState]  # by the node's own connection id

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "conns": self.connections}

    @classmethod
    def from_wire(cls, raw: Any) -> NodeMember:
        """Parse one member of a published share; ``ValueError`` if it is malformed."""
        if not isinstance(raw, dict):
            raise ValueError("a member is an object")
        member_id, name, conns = raw.get("id"), raw.get("name"), raw.get("conns")
        if not isinstance(member_id, str) or not isinstance(name, str):
            raise ValueError("a member has a string id and name")
        if not isinstance(conns, dict) or not all(
            isinstance(sid, str) and state in ("online", "away") for sid, state in conns.items()
        ):
            raise ValueError("a member's conns map ids to 'online' or 'away'")
        return cls(member_id, name, dict(conns))


def connection_key(node: str, sid: str) -> str:
    """The key of connection ``sid`` of ``node`` in the merged presence."""
    return f"{node}/{sid}"


def node_members(presence: RoomPresence, node: str) -> list[NodeMember]:
    """The members of a room that have connections on ``node``, with those connections."""
    prefix = node + "/"
    members = []
    for member in presence.members.values():
        conns = {
            key[len(prefix) :]: state
            for key, state in member.connections.items()
            if key.startswith(prefix)
        }
        if conns:
            members.append(NodeMember(member.id, member.name, conns))
    return members


def replace_node(presence: RoomPresence, node: str, members: list[NodeMember]) -> bool:
    """Make ``node``'s share of the room ``members``; return whether what clients see changed.

    Members whose last connection goes stay listed as offline, as when they leave locally.
    """
    before = {member_id: member.view() for member_id, member in presence.members.items()}
    prefix = node + "/"
    wanted = {
        (member.id, connection_key(node, sid)) for member in members for sid in member.connections
    }
    for present in list(presence.members.values()):
        for key in [k for k in present.connections if k.startswith(prefix)]:
            if (present.id, key) not in wanted:
                presence.remove(present.id, key)
    for member in members:
        for sid, state in member.connections.items():
            presence.add(member.id, member.name, connection_key(node, sid), state)
    after = {member_id: member.view() for member_id, member in presence.members.items()}
    return after != before


class NodeTable:
    """When each other node was last heard from; a node silent for ``ttl`` seconds is dead.

    Times are whatever monotonic clock the caller passes in (seconds).
    """

    def __init__(self, own: str, ttl: float) -> None:
        self.own = own
        self.ttl = ttl
        self._heard: dict[str, float] = {}

    def heard(self, node: str, now: float) -> bool:
        """Note that ``node`` spoke at ``now``; True if it was not known alive before."""
        new = node not in self._heard
        self._heard[node] = now
        return new

    def forget(self, node: str) -> bool:
        """Drop ``node`` (it said goodbye); True if it was known."""
        return self._heard.pop(node, None) is not None

    def expired(self, now: float) -> list[str]:
        """The nodes silent for longer than the TTL, now forgotten."""
        dead = [node for node, at in self._heard.items() if now - at > self.ttl]
        for node in dead:
            del self._heard[node]
        return dead

    def alive(self) -> list[str]:
        """The other nodes heard from within the TTL, by id."""
        return sorted(self._heard)
