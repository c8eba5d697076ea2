"""The cluster link: what the processes of one deployment tell each other besides messages.

Every process ("node") has a random id and talks on one bus channel, :data:`CLUSTER_CHANNEL`,
in small JSON notes (docs/topics/scaling.md lists them):

- ``room``: the node's whole share of a room's presence, sent whenever it changes. Each node
  merges the shares into one presence per room (core/cluster.py), so ``presence`` and the
  ``join`` ack's ``members`` are the same on every node.
- ``beat``: every ``heartbeat`` seconds. A node not heard from for ``ttl`` seconds is dead
  (``kill -9``, cut off): its connections go offline everywhere, and every room is caught up
  (it may have died between storing a message and publishing it).
  It carries the sender's wall-clock time (``ts``): the receiver's clock minus it is the
  bus lag, from publish on one process to receipt on another (``/metrics``; between
  machines it includes the difference of their clocks).
- ``hello``: at start and after the bus recovered. Every node answers with its shares, so a
  node that starts late, or missed changes during an outage, learns the current presence;
  and catches up every room from the store (transport/catch_up.py).
- ``bye``: at a clean shutdown, so the node's members go offline at once, not after the TTL.
- ``event``: a ``typing`` or ``read`` event for a room's members on other nodes.
- ``timeline``: a timeline event recorded here, for console connections on other nodes.

Why notes on the bus and not presence kept in Redis: the bus is the one shared thing a
deployment already has (the local bus makes a single process the same code), whole shares
make lost or repeated notes harmless, and a node's memory is the only place its
connections' truth lives anyway. Notes are sent in order by one task; while the bus is
down they are dropped, except the rooms whose shares changed, which are sent on recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from roomcast.core.cluster import NodeMember, NodeTable, node_members, replace_node
from roomcast.core.errors import Unavailable
from roomcast.core.presence import PresenceRegistry
from roomcast.ports import Bus
from roomcast.protocol.socketio import dumps
from roomcast.transport.catch_up import CatchUp

__all__ = ["CLUSTER_CHANNEL", "ClusterLink", "RoomView"]

log = logging.getLogger(__name__)

CLUSTER_CHANNEL = "roomcast.cluster"
RELAYED_EVENTS = ("typing", "read")


class RoomView:
    """What the link does to this node's connections; the chat namespace implements it."""

    def __init__(
        self,
        show_presence: Callable[[str], None],
        show_event: Callable[[str, str, str], None],
        show_timeline: Callable[[str], None],
    ) -> None:
        self.show_presence = show_presence  # (room): broadcast the merged presence here
        self.show_event = show_event  # (room, event, args JSON): broadcast here
        self.show_timeline = show_timeline  # (event JSON): to console connections here


class ClusterLink:
    """Publishes this node's presence and events, merges the other nodes', watches liveness."""

    def __init__(
        self,
        bus: Bus,
        presence: PresenceRegistry,
        view: RoomView,
        catch_up: CatchUp,
        *,
        node: str,
        heartbeat: float,
        ttl: float,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.node = node
        self._bus = bus
        self._presence = presence
        self._view = view
        self._catch_up = catch_up
        self._heartbeat = heartbeat
        self._monotonic = monotonic
        self._wall = wall
        # Called with each heartbeat's lag in seconds; the app points it at /metrics.
        self.on_lag: Callable[[float], None] | None = None
        self.nodes = NodeTable(node, ttl)
        self._outbox: list[str | dict[str, Any]] = []  # a room name: its share, read when sent
        self._queued_rooms: set[str] = set()
        self._unsent_rooms: set[str] = set()  # shares the bus refused: sent on recovery
        self._recovered = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- what the chat namespace calls ---------------------------------------------------

    async def start(self) -> None:
        await self._bus.subscribe(CLUSTER_CHANNEL, self._received)
        self._bus.on_recovered(self._on_bus_recovered)
        self._note({"t": "hello"})
        self._task = asyncio.create_task(self._run(), name="roomcast-cluster")

    async def stop(self) -> None:
        """Say goodbye (best effort: the TTL covers a bus that is down) and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Unavailable):
            await self._publish({"t": "bye"})
        await self._bus.unsubscribe(CLUSTER_CHANNEL, self._received)

    def room_changed(self, room: str) -> None:
        """This node's share of ``room``'s presence changed: tell the others."""
        if room not in self._queued_rooms:
            self._queued_rooms.add(room)
            self._outbox.append(room)
            self._wake.set()

    def relay(self, room: str, event: str, args_json: str) -> None:
        """Send a ``typing`` or ``read`` event to the room's members on other nodes."""
        self._note({"t": "event", "room": room, "event": event, "args": args_json})

    def relay_timeline(self, event_json: str) -> None:
        """Send a recorded timeline event to console connections on other nodes."""
        self._note({"t": "timeline", "args": event_json})

    # -- sending -------------------------------------------------------------------------

    def _note(self, note: dict[str, Any]) -> None:
        self._outbox.append(note)
        self._wake.set()

    def _on_bus_recovered(self) -> None:
        self._recovered = True
        self._wake.set()

    def _own_rooms(self) -> set[str]:
        return {
            room
            for room in self._presence.rooms()
            if node_members(self._presence.room(room), self.node)
        }

    def _share(self, room: str) -> dict[str, Any]:
        members = node_members(self._presence.room(room), self.node)
        return {"t": "room", "room": room, "members": [m.to_wire() for m in members]}

    async def _publish(self, note: dict[str, Any]) -> None:
        await self._bus.publish(CLUSTER_CHANNEL, dumps({**note, "node": self.node}).encode())

    async def _flush(self) -> None:
        outbox, self._outbox = self._outbox, []
        self._queued_rooms.clear()
        # Started together, so the bus sends them in one pipeline; it keeps their order.
        results = await asyncio.gather(
            *(self._publish(self._share(i) if isinstance(i, str) else i) for i in outbox),
            return_exceptions=True,
        )
        for item, result in zip(outbox, results, strict=True):
            if isinstance(result, Unavailable):
                if isinstance(item, str):
                    self._unsent_rooms.add(item)
            elif isinstance(result, BaseException):
                raise result

    def _announce_all(self) -> None:
        """Queue every share this node has, and those the bus refused before."""
        for room in sorted(self._own_rooms() | self._unsent_rooms):
            self.room_changed(room)
        self._unsent_rooms.clear()

    async def _run(self) -> None:
        next_beat = self._monotonic()
        while True:
            wait = max(0.0, next_beat - self._monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
            try:
                await self._tick(next_beat)
            except Exception:  # a task boundary: the link must outlive one bad pass
                log.exception("cluster: a pass failed")
            if self._monotonic() >= next_beat:
                next_beat = self._monotonic() + self._heartbeat

    async def _tick(self, next_beat: float) -> None:
        if self._recovered:
            self._recovered = False
            log.warning("cluster: the bus is back; sharing presence and catching up")
            self._note({"t": "hello"})
            self._announce_all()
            self._catch_up.request()
        await self._flush()
        now = self._monotonic()
        if now < next_beat:
            return
        with contextlib.suppress(Unavailable):
            await self._publish({"t": "beat", "ts": self._wall()})
        dead = self.nodes.expired(now)
        for node in dead:
            log.warning("cluster: node %s went silent; its members are offline", node)
            self._drop(node)
        if dead:
            self._catch_up.request()
        self._catch_up.check()

    # -- receiving -----------------------------------------------------------------------

    def _received(self, channel: str, payload: bytes) -> None:
        note = json.loads(payload)
        node = note.get("node")
        if not isinstance(node, str) or node == self.node:
            return  # our own notes come back through the bus
        kind = note.get("t")
        if kind == "bye":
            if self.nodes.forget(node):
                self._drop(node)
            return
        if kind == "beat":
            self._beat_lag(note.get("ts"))
        if self.nodes.heard(node, self._monotonic()) and kind != "hello":
            log.info("cluster: node %s joined", node)
            self._announce_all()  # it needs our shares as much as we need its
        if kind == "hello":
            self._announce_all()
            self._catch_up.request()
        elif kind == "room":
            room = note["room"]
            members = [NodeMember.from_wire(raw) for raw in note["members"]]
            if replace_node(self._presence.room(room), node, members):
                self._view.show_presence(room)
        elif kind == "event" and note.get("event") in RELAYED_EVENTS:
            self._view.show_event(note["room"], note["event"], note["args"])
        elif kind == "timeline":
            self._view.show_timeline(note["args"])

    def _beat_lag(self, sent: object) -> None:
        # A node of an older version sends no time; a clock behind ours no negative lag.
        if self.on_lag is not None and isinstance(sent, int | float):
            self.on_lag(max(0.0, self._wall() - sent))

    def _drop(self, node: str) -> None:
        for room in self._presence.rooms():
            if replace_node(self._presence.room(room), node, []):
                self._view.show_presence(room)
