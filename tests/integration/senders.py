"""Concurrent chat senders over raw WebSocket, and the checks that nothing they were told is lost.

The client speaks Engine.IO v4 and Socket.IO v5 as the protocol documents describe them,
with the websockets library only: it shares no code with the server, and it records how
each connection ended (the close code and reason, and whether an Engine.IO close packet
or a Socket.IO disconnect came first) for the shutdown tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import requests
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class Gone(Exception):
    """The connection ended before the call was answered."""


class RawSocketIO:
    """One Socket.IO session on namespace ``/`` over one WebSocket."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count()
        self.acks: dict[int, asyncio.Future[Any]] = {}
        #: Engine.IO or Socket.IO packets that ended the session from the server's side.
        self.farewell: list[str] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, name: str) -> RawSocketIO:
        endpoint = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        ws = await connect(endpoint, open_timeout=10, ping_interval=None, close_timeout=2)
        opening = await ws.recv()
        assert isinstance(opening, str) and opening.startswith("0"), opening
        await ws.send("40" + json.dumps({"name": name}))
        reply = await ws.recv()
        assert isinstance(reply, str) and reply.startswith("40"), reply
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if not isinstance(frame, str):
                    continue
                if frame == "2":
                    await self.ws.send("3")
                elif frame.startswith("43"):
                    digits = "".join(itertools.takewhile(str.isdigit, frame[2:]))
                    answer = self.acks.pop(int(digits), None)
                    if answer is not None and not answer.done():
                        answer.set_result(json.loads(frame[2 + len(digits) :])[0])
                elif frame == "1" or frame.startswith("41"):
                    self.farewell.append(frame)
        except ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason or ""
            for answer in self.acks.values():
                if not answer.done():
                    answer.set_exception(Gone())

    async def call(self, event: str, payload: Any) -> dict[str, Any]:
        """Emit with an ack and return the ack's first argument; raises :class:`Gone`."""
        if self.reader.done():
            raise Gone()
        ack_id = next(self.ids)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = answer
        try:
            await self.ws.send(f"42{ack_id}" + json.dumps([event, payload]))
        except ConnectionClosed:
            self.acks.pop(ack_id, None)
            raise Gone() from None
        result: dict[str, Any] = await answer
        return result

    async def closed(self) -> None:
        """Wait until the server has ended the connection."""
        await self.reader

    async def close(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.close()
        await self.reader


@dataclass
class Sent:
    """What the senders of one run were told, and what they sent without an answer."""

    #: cid -> the message of its ``{ok: true, message}`` ack.
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: cid -> the send payload whose ack never came (cut off by the crash or shutdown).
    unanswered: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Senders whose connection closed, with the code and reason it closed with.
    closes: list[tuple[int | None, str, list[str]]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


def sender_name(index: int) -> str:
    return f"sender-{index}"


async def send_until_cut_off(
    url: str,
    index: int,
    room: str,
    tag: str,
    sent: Sent,
    started: asyncio.Event,
    ready: list[int],
    count: int,
) -> None:
    """Send as fast as acks come back until the server goes away; record every answer."""
    client = await RawSocketIO.open(url, sender_name(index))
    joined = await client.call("join", {"room": room})
    assert joined["ok"], joined
    ready.append(index)
    if len(ready) == count:
        started.set()
    for n in itertools.count():
        cid = f"{tag}-{index}-{n}"
        payload = {"room": room, "text": f"{cid} from {sender_name(index)}", "cid": cid}
        sent.unanswered[cid] = payload
        try:
            ack = await client.call("send", payload)
        except Gone:
            break
        del sent.unanswered[cid]
        if ack.get("ok") is True:
            sent.acked[cid] = ack["message"]
        else:
            sent.refused.append(ack)  # asserted empty: the test's load stays under limits
            break
    await client.closed()
    sent.closes.append((client.close_code, client.close_reason, client.farewell))


def room_of(index: int, rooms: int) -> str:
    return f"crash-{index % rooms}"


def read_history(url: str, room: str, since: int = 0) -> list[dict[str, Any]]:
    """The messages of ``room`` after ``since`` through the HTTP API, page by page."""
    messages: list[dict[str, Any]] = []
    while True:
        answer = requests.get(
            f"{url}/api/v1/rooms/{room}/messages",
            params={"since": messages[-1]["offset"] if messages else since, "limit": 200},
            timeout=10,
        )
        if answer.status_code == 404 and not messages and not since:
            return []  # no message was ever stored in it
        answer.raise_for_status()
        page = answer.json()
        messages += page["messages"]
        if not page["more"]:
            return messages


class History:
    """What the rooms hold, as read so far; each :meth:`catch_up` reads only what is new.

    Their messages are never changed or removed (no retention is set), so reading the
    new ones each time checks as much as reading them all; :meth:`reread` does that too.
    """

    def __init__(self, rooms: list[str]) -> None:
        self.rooms: dict[str, list[dict[str, Any]]] = {room: [] for room in rooms}
        self.by_cid: dict[str, dict[str, Any]] = {}

    @property
    def total(self) -> int:
        return sum(len(messages) for messages in self.rooms.values())

    def catch_up(self, url: str) -> None:
        """Read what is new; its offsets follow on without a gap, no cid comes twice."""
        for room, messages in self.rooms.items():
            last = len(messages)
            new = read_history(url, room, since=last)
            offsets = [m["offset"] for m in new]
            assert offsets == list(range(last + 1, last + len(new) + 1)), f"{room}: a gap"
            for message in new:
                cid = message.get("cid")
                seen = self.by_cid.get(cid)
                assert seen is None, f"cid {cid} stored twice: {seen} and {message}"
                self.by_cid[cid] = message
            messages += new

    def check(self, acked: dict[str, dict[str, Any]]) -> None:
        """Every acked message is stored, at the offset and with the text its ack gave."""
        lost = [cid for cid in acked if cid not in self.by_cid]
        assert not lost, f"{len(lost)} acked messages lost, e.g. {lost[:5]}"
        differ = [
            cid
            for cid, message in acked.items()
            if (self.by_cid[cid]["offset"], self.by_cid[cid]["id"], self.by_cid[cid]["text"])
            != (message["offset"], message["id"], message["text"])
        ]
        assert not differ, f"stored otherwise than acked: {differ[:5]}"

    def reread(self, url: str) -> None:
        """Read every room from the start again: nothing read before has changed."""
        for room, messages in self.rooms.items():
            assert read_history(url, room) == messages, f"{room} changed"


def check_history(url: str, rooms: list[str], acked: dict[str, dict[str, Any]]) -> int:
    """Assert every acked message is stored once, at its acked offset, and offsets are 1..N.

    Returns how many messages the rooms hold.
    """
    history = History(rooms)
    history.catch_up(url)
    history.check(acked)
    return history.total


async def retry(url: str, sent: Sent) -> int:
    """Send every unanswered message again with its cid, as its sender; they become acked.

    A few acked ones are sent again too: the answer must be the message already stored.
    Returns how many sends were retried.
    """
    by_sender: dict[str, list[dict[str, Any]]] = {}
    for cid, payload in sent.unanswered.items():
        by_sender.setdefault(cid.rsplit("-", 1)[0], []).append(payload)
    again = list(itertools.islice(sent.acked.items(), 3))

    async def as_sender(key: str, payloads: list[dict[str, Any]]) -> None:
        index = int(key.rsplit("-", 1)[1])
        client = await RawSocketIO.open(url, sender_name(index))
        try:
            for room in {p["room"] for p in payloads}:
                assert (await client.call("join", {"room": room}))["ok"]
            for payload in payloads:
                ack = await client.call("send", payload)
                assert ack["ok"] is True, ack
                sent.acked[payload["cid"]] = ack["message"]
        finally:
            await client.close()

    await asyncio.gather(*(as_sender(key, payloads) for key, payloads in by_sender.items()))
    for cid, message in again:
        index = int(cid.split("-")[-2])
        client = await RawSocketIO.open(url, sender_name(index))
        try:
            assert (await client.call("join", {"room": message["room"]}))["ok"]
            payload = {"room": message["room"], "text": message["text"], "cid": cid}
            ack = await client.call("send", payload)
        finally:
            await client.close()
        assert ack["ok"] is True, ack
        assert (ack["message"]["offset"], ack["message"]["id"]) == (
            message["offset"],
            message["id"],
        )
    retried = len(sent.unanswered)
    sent.unanswered.clear()
    return retried
