"""Soak load: many chat connections joining, sending, leaving and reconnecting for a while.

Each connection is a light client (the ``websockets`` asyncio client speaking Engine.IO and
Socket.IO text frames by hand) driven by one actor: it joins rooms, sends acked messages
with unique ``cid``s, leaves and joins other rooms, and now and then drops its socket and
comes back, rejoining its rooms with ``since`` to catch up. What it checks as it goes:

- every ack is ok and every disconnect is one the actor made;
- per room, what a member receives continues its join without a gap or reordering: room
  offsets are gapless, so after the last offset it was given, the next message it gets
  must be the next offset (earlier ones are duplicates, dropped as clients do);
- a rejoin with ``since`` returns exactly the messages after ``since``, in order.

:func:`verify` then checks the end state: every member still in a room has received all of
it, and every acked message is in the room's history exactly once, at its acked offset.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

__all__ = ["Load", "SoakClient", "Tally", "run_load", "verify"]

#: A deadline for anything one call waits for; never a measured duration.
TIMEOUT = 60.0


@dataclass
class Tally:
    """Counts and findings of one soak run."""

    connections: int = 0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    duplicates: int = 0
    joins: int = 0
    leaves: int = 0
    reconnects: int = 0
    caught_up: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    #: room -> {offset: cid} of every acked send.
    acked_at: dict[str, dict[int, str]] = field(default_factory=dict)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {detail}")


class SoakClient:
    """One Socket.IO connection as ``name``; remembers the last offset it has per room."""

    def __init__(self, name: str, tally: Tally) -> None:
        self.name = name
        self.tally = tally
        self.ws: ClientConnection | None = None
        self.last: dict[str, int] = {}  # rooms joined (or being joined) -> last offset had
        self.early: dict[str, list[dict[str, Any]]] = {}  # live messages before the join ack
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._reader: asyncio.Task[None] | None = None
        self.closing = False

    async def open(self, url: str) -> None:
        ws = await connect(
            url, max_size=None, ping_interval=None, compression=None, open_timeout=TIMEOUT
        )
        self.ws = ws
        async with asyncio.timeout(TIMEOUT):
            opened = await ws.recv()
            assert isinstance(opened, str) and opened.startswith("0"), opened
            await ws.send("40" + json.dumps({"name": self.name}))
            reply = await ws.recv()
            while reply == "2":  # a ping before the namespace answered
                await ws.send("3")
                reply = await ws.recv()
        if not (isinstance(reply, str) and reply.startswith("40")):
            raise RuntimeError(f"{self.name} refused: {reply!r}")
        self.tally.connections += 1
        self._reader = asyncio.create_task(self._read(ws))

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Emit ``event`` with an ack and return the ack's payload."""
        assert self.ws is not None
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send(f"42{ack_id}" + json.dumps([event, payload]))
        try:
            async with asyncio.timeout(TIMEOUT):
                answer = await future
        finally:
            self._acks.pop(ack_id, None)
        assert isinstance(answer, dict)
        if answer.get("ok") is not True:
            self.tally.error(f"{event} refused", f"{self.name}: {answer}")
        return answer

    async def join(self, room: str, since: int | None = None) -> None:
        payload: dict[str, Any] = {"room": room}
        if since is not None:
            payload["since"] = since
        self.early[room] = []
        answer = await self.call("join", payload)
        early = self.early.pop(room, [])
        if answer.get("ok") is not True:
            return
        self.tally.joins += 1
        messages = [message["offset"] for message in answer["messages"]]
        if since is not None:
            if messages != list(range(since + 1, since + 1 + len(messages))) or answer["more"]:
                self.tally.error("catch-up", f"{self.name} {room} since {since}: {messages}")
            self.tally.caught_up += len(messages)
            given = messages[-1] if messages else since
        else:
            given = messages[-1] if messages else 0
        self.last[room] = given
        for message in early:
            self._deliver(message)

    async def leave(self, room: str) -> None:
        answer = await self.call("leave", {"room": room})
        if answer.get("ok") is True:
            self.tally.leaves += 1
        self.last.pop(room, None)

    async def send(self, room: str, cid: str) -> None:
        self.tally.sent += 1
        answer = await self.call("send", {"room": room, "text": f"{self.name} {cid}", "cid": cid})
        if answer.get("ok") is True:
            self.tally.acked += 1
            offset = answer["message"]["offset"]
            seen = self.tally.acked_at.setdefault(room, {})
            if offset in seen:
                self.tally.error("offset acked twice", f"{room} {offset}: {seen[offset]}, {cid}")
            seen[offset] = cid

    async def close(self, *, abrupt: bool = False) -> None:
        """Leave: a clean close, or an abrupt one as a lost network would be."""
        self.closing = True
        ws = self.ws
        if ws is None:
            return
        if abrupt:
            ws.transport.abort()
        else:
            await ws.close()
        if self._reader is not None:
            await self._reader

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                if not isinstance(frame, str):
                    self.tally.error("binary frame", self.name)
                elif frame == "2":
                    await ws.send("3")
                elif frame.startswith("43"):
                    start = frame.index("[")
                    future = self._acks.get(int(frame[2:start]))
                    if future is not None and not future.done():
                        future.set_result(json.loads(frame[start:])[0])
                elif frame.startswith('42["message"'):
                    self._deliver(json.loads(frame[2:])[1])
                elif frame.startswith("41") or frame.startswith("1"):
                    self.tally.error("closed by server", f"{self.name}: {frame[:80]}")
        except ConnectionClosed as closed:
            if not self.closing:
                self.tally.error("unexpected disconnect", f"{self.name}: {closed!r}")
        finally:
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"{self.name} disconnected"))

    def _deliver(self, message: dict[str, Any]) -> None:
        room = message["room"]
        early = self.early.get(room)
        if early is not None:  # the join's ack is on its way: it says where we start
            early.append(message)
            return
        last = self.last.get(room)
        if last is None:
            return  # left already; the message was on its way
        offset = message["offset"]
        if offset <= last:
            self.tally.duplicates += 1
        elif offset == last + 1:
            self.last[room] = offset
            self.tally.delivered += 1
        else:
            self.tally.error("gap", f"{self.name} {room}: had {last}, got {offset}")
            self.last[room] = offset


@dataclass(frozen=True)
class Load:
    """The shape of the load: how many, how long, how busy."""

    url: str  # the server's base URL
    connections: int
    seconds: float
    period: float = 10.0  # mean seconds between one connection's actions
    rooms_each: int = 2  # rooms a connection is in most of the time
    members_per_room: int = 10  # rooms = connections / this
    seed: int = 7

    @property
    def rooms(self) -> list[str]:
        return [f"soak-{k}" for k in range(max(2, self.connections // self.members_per_room))]

    @property
    def socket_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"


async def _open(load: Load, name: str, tally: Tally) -> SoakClient:
    client = SoakClient(name, tally)
    await client.open(load.socket_url)
    return client


async def _actor(
    load: Load, slot: int, clients: list[SoakClient], tally: Tally, opened: asyncio.Semaphore
) -> None:
    """Drive connection ``slot`` until the load's time is up; leaves it connected."""
    rng = random.Random(load.seed * 100_003 + slot)
    rooms = load.rooms
    name = f"s{slot}"
    async with opened:
        client = clients[slot] = await _open(load, name, tally)
        for room in rng.sample(rooms, load.rooms_each):
            await client.join(room)
    deadline = time.monotonic() + load.seconds
    sends = itertools.count()
    while True:
        pause = rng.expovariate(1 / load.period)
        if time.monotonic() + pause >= deadline:
            return
        await asyncio.sleep(pause)
        roll = rng.random()
        joined = list(client.last)
        if roll < 0.75 and joined:
            await client.send(rng.choice(joined), f"{name}-{next(sends)}")
        elif roll < 0.95 or not joined:  # move: leave a room, join another
            if len(joined) >= load.rooms_each:
                await client.leave(rng.choice(joined))
            await client.join(rng.choice([room for room in rooms if room not in client.last]))
        else:  # the network drops; come back and catch up from the last offsets
            had = dict(client.last)
            await client.close(abrupt=True)
            tally.reconnects += 1
            client = clients[slot] = await _open(load, name, tally)
            for room, last in had.items():
                await client.join(room, since=last)


async def run_load(load: Load, tally: Tally) -> list[SoakClient]:
    """Run every actor to the end of the load; returns the connections, still open."""
    clients: list[SoakClient] = [SoakClient("", tally)] * load.connections
    opened = asyncio.Semaphore(50)  # handshakes at a time while the connections ramp up
    actors = [
        asyncio.create_task(_actor(load, slot, clients, tally, opened))
        for slot in range(load.connections)
    ]
    for done in asyncio.as_completed(actors):
        try:
            await done
        except Exception as error:  # noqa: BLE001 -- counted as a finding, the others go on
            tally.error("actor failed", repr(error))
    return clients


async def _history(http: httpx.AsyncClient, room: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        since = messages[-1]["offset"] if messages else 0
        reply = await http.get(
            f"/api/v1/rooms/{room}/messages", params={"since": since, "limit": 200}
        )
        if reply.status_code == 404:
            return messages
        page = reply.json()
        messages += page["messages"]
        if not page["more"]:
            return messages


async def _reaches(client: SoakClient, room: str, offset: int, deadline: float) -> bool:
    """Whether ``client`` has had ``room`` through ``offset`` by ``deadline``."""
    # Polled: the reader has no event per offset, and this runs once per member.
    while client.last.get(room, 0) < offset and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    return client.last.get(room, 0) >= offset


async def verify(load: Load, clients: list[SoakClient], tally: Tally) -> int:
    """Check the end state (see the module docstring); returns the messages in history."""
    stored = 0
    async with httpx.AsyncClient(base_url=load.url, timeout=TIMEOUT) as http:
        last_offset: dict[str, int] = {}
        for room in load.rooms:
            history = await _history(http, room)
            stored += len(history)
            last_offset[room] = history[-1]["offset"] if history else 0
            cids = Counter(message.get("cid") for message in history)
            by_offset = {message["offset"]: message.get("cid") for message in history}
            for offset, cid in tally.acked_at.get(room, {}).items():
                if cids[cid] != 1 or by_offset.get(offset) != cid:
                    tally.error("history", f"{room}: {cid} at {offset}, {cids[cid]} times")
    deadline = time.monotonic() + TIMEOUT
    for client in clients:
        for room in list(client.last):
            if not await _reaches(client, room, last_offset[room], deadline):
                tally.error(
                    "lost", f"{client.name} {room}: {client.last[room]} of {last_offset[room]}"
                )
    return stored
