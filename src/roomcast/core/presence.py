"""Who is in a room: members, their connections, online/away/offline and typing.

A member is online while any of its connections is visible, away while all of them
are hidden, and offline once none is left (it stays listed as offline for a while). Every
method returns whether what clients see changed, so the caller broadcasts only then.

Offline members are remembered within two bounds, those offline longest forgotten first:
``_MAX_OFFLINE`` per room, so that every presence broadcast of a busy room stays a few KB,
and ``_MAX_OFFLINE_TOTAL`` over all rooms, so that memory does not grow with the number of
rooms ever visited. A member forgotten because of another room's departure leaves its own
room's list without a broadcast there; the next one shows it gone.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ConnectionState",
    "MemberPresence",
    "OfflineLedger",
    "PresenceRegistry",
    "RoomPresence",
]

ConnectionState = Literal["online", "away"]
MemberState = Literal["online", "away", "offline"]
_ORDER = {"online": 0, "away": 1, "offline": 2}
_MAX_OFFLINE = 50  # offline members kept per room; those offline longest go first
_MAX_OFFLINE_TOTAL = 10_000  # ... and over every room of the process (about 450 bytes each)


@dataclass(slots=True)
class MemberPresence:
    id: str
    name: str
    connections: dict[str, ConnectionState] = field(default_factory=dict)
    typing: bool = False

    @property
    def state(self) -> MemberState:
        if not self.connections:
            return "offline"
        return "online" if "online" in self.connections.values() else "away"

    def view(self) -> tuple[str, MemberState, bool]:
        return (self.name, self.state, self.typing)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "typing": self.typing}


class OfflineLedger:
    """Every room's offline members in the order they went offline, to bound them all."""

    def __init__(self, rooms: dict[str, RoomPresence]) -> None:
        self._rooms = rooms
        self._offline: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._offline)

    def went_offline(self, room: str, member_id: str) -> None:
        self._offline[(room, member_id)] = None
        self._offline.move_to_end((room, member_id))
        while len(self._offline) > _MAX_OFFLINE_TOTAL:
            (oldest_room, oldest_id), _ = self._offline.popitem(last=False)
            presence = self._rooms.get(oldest_room)
            if presence is not None:
                presence.forget_offline(oldest_id)
                if not presence.members:
                    del self._rooms[oldest_room]

    def forgotten(self, room: str, member_id: str) -> None:
        """``member_id`` is no longer offline in ``room``: back online, or forgotten there."""
        self._offline.pop((room, member_id), None)


class RoomPresence:
    """The members of one room; ``ledger`` bounds offline members across rooms.

    A room made on its own (no ledger given) gets one of its own, bounding nothing else.
    """

    def __init__(self, name: str = "", ledger: OfflineLedger | None = None) -> None:
        self.name = name
        self.members: dict[str, MemberPresence] = {}
        self._ledger = ledger if ledger is not None else OfflineLedger({})

    def _change(self, member_id: str, mutate: Any) -> bool:
        member = self.members.get(member_id)
        before = member.view() if member else None
        mutate()
        member = self.members.get(member_id)
        return (member.view() if member else None) != before

    def add(self, member_id: str, name: str, conn_id: str, state: ConnectionState) -> bool:
        def mutate() -> None:
            member = self.members.get(member_id)
            if member is None:
                member = self.members[member_id] = MemberPresence(member_id, name)
            elif not member.connections:
                self._ledger.forgotten(self.name, member_id)
            member.name = name
            member.connections[conn_id] = state

        return self._change(member_id, mutate)

    def remove(self, member_id: str, conn_id: str) -> bool:
        def mutate() -> None:
            member = self.members.get(member_id)
            if member is not None and conn_id in member.connections:
                del member.connections[conn_id]
                if not member.connections:
                    member.typing = False
                    # Last in the dict is the latest to go offline, forgotten last. The cap
                    # is kept here, where members go offline, so that only this member's
                    # view can change and the return value stays exact.
                    del self.members[member_id]
                    self.members[member_id] = member
                    self._forget_old_offline()
                    self._ledger.went_offline(self.name, member_id)

        return self._change(member_id, mutate)

    def set_state(self, member_id: str, conn_id: str, state: ConnectionState) -> bool:
        def mutate() -> None:
            member = self.members.get(member_id)
            if member is not None and conn_id in member.connections:
                member.connections[conn_id] = state

        return self._change(member_id, mutate)

    def set_typing(self, member_id: str, typing: bool) -> bool:
        def mutate() -> None:
            member = self.members.get(member_id)
            if member is not None and member.connections:
                member.typing = typing

        return self._change(member_id, mutate)

    def is_present(self, member_id: str) -> bool:
        member = self.members.get(member_id)
        return member is not None and bool(member.connections)

    def snapshot(self) -> list[dict[str, Any]]:
        """Members as the wire shows them: online first, then away, then offline; by name."""
        ordered = sorted(
            self.members.values(), key=lambda m: (_ORDER[m.state], m.name.casefold(), m.id)
        )
        return [member.to_wire() for member in ordered]

    def forget_offline(self, member_id: str) -> None:
        """Stop listing ``member_id`` if it is offline (the ledger's global bound)."""
        member = self.members.get(member_id)
        if member is not None and not member.connections:
            del self.members[member_id]

    def _forget_old_offline(self) -> None:
        offline = [m for m in self.members.values() if not m.connections]  # oldest first
        for member in offline[: max(0, len(offline) - _MAX_OFFLINE)]:
            del self.members[member.id]
            self._ledger.forgotten(self.name, member.id)


class PresenceRegistry:
    """Presence of the rooms that have had a member, until their last one is forgotten."""

    def __init__(self) -> None:
        self._rooms: dict[str, RoomPresence] = {}
        self.offline = OfflineLedger(self._rooms)

    def room(self, name: str) -> RoomPresence:
        presence = self._rooms.get(name)
        if presence is None:
            presence = self._rooms[name] = RoomPresence(name, self.offline)
        return presence

    def rooms(self) -> list[str]:
        """Rooms with a member listed, online or not, most recently first seen last."""
        return [name for name, presence in self._rooms.items() if presence.members]

    def peek(self, name: str) -> RoomPresence | None:
        return self._rooms.get(name)

    def online_count(self, name: str) -> int:
        presence = self._rooms.get(name)
        if presence is None:
            return 0
        return sum(1 for member in presence.members.values() if member.connections)
