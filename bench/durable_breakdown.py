"""Where one durable chat ``send`` spends the server's CPU, stage by stage, in process.

    python bench/durable_breakdown.py            # run it pinned: taskset -c 0, under the lock

Times each step of the path a ``send`` takes through Roomcast with the same code the
server runs, on the same message shape as ``scenarios/durable.cjs`` (a 200-character
text, a cid, a room of its own): the WebSocket frame in, Engine.IO and Socket.IO decoding,
the chat validation, the store (SQLite, in batches of 100 as 100 concurrent senders make
them, main thread and writer thread apart; and the memory store), the ack's encoding
and the broadcast back to the sender, framed and written. What the stages do not add up
to in a live run (``durable`` scenario, per-thread CPU) is the event loop: task wake-ups,
futures, socket reads and writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from roomcast.adapters.store import MemoryStore, SqliteStore
from roomcast.adapters.store.sqlite import (
    _INSERT_MESSAGE,
    _LAST_OFFSET,
    _UPSERT_ROOM,
    _open_writer,
)
from roomcast.core.validation import Limits, parse_send
from roomcast.ports import MessageDraft, Sender, StoredMessage
from roomcast.protocol import socketio as sio
from roomcast.protocol.engineio import decode_packet
from roomcast.transport.catch_up import offset_of
from roomcast.transport.frames import SharedText, wire_bytes

ROOM = "durable-7"
TEXT = "x" * 200
SENDER = Sender("m-0123456789abcdef", "sender-7")


def _inbound(seq: int) -> str:
    payload = {"room": ROOM, "text": TEXT, "cid": f"c{seq}"}
    return f"42{seq}" + json.dumps(["send", payload], separators=(",", ":"))


def _masked_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=True)


def _per_call(stmt: Callable[[], object], number: int = 20_000) -> float:
    """Best of five, in microseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def frame_in() -> float:
    conn = ServerProtocol(state=OPEN, max_size=1_000_000)
    data = _masked_frame(_inbound(123))

    def step() -> None:
        conn.receive_data(data)
        for event in conn.events_received():
            bytes(event.data).decode()

    return _per_call(step)


def decode() -> float:
    text = _inbound(123)
    decoder = sio.Decoder()

    def step() -> None:
        decoder.feed(decode_packet(text).data)

    return _per_call(step)


def validate() -> float:
    limits = Limits()
    packet = sio.Decoder().feed(_inbound(123)[1:])
    assert packet is not None

    def step() -> None:
        request = parse_send(packet.data[1], limits)
        MessageDraft(request.room, "text", 1_700_000_000_000, SENDER, request.text, None,
                     request.cid)  # fmt: skip

    return _per_call(step)


def _message(offset: int = 42) -> StoredMessage:
    return StoredMessage(ROOM, offset, os.urandom(16).hex(), 1_700_000_000_000, "text", SENDER,
                         TEXT, None, "c123")  # fmt: skip


def ack_encode() -> float:
    message = _message()

    def step() -> None:
        text = sio.dumps(message.to_wire())
        result = sio.EncodedJSON(f'[{{"ok":true,"message":{text}}}]')
        frames = sio.encode(sio.SioPacket(sio.PacketType.ACK, "/", result, 123))
        [("4" + frame if isinstance(frame, str) else frame) for frame in frames]

    return _per_call(step)


def broadcast() -> float:
    """From the stored message's text to its frame: bus payload, catch-up check, encoding."""
    text = sio.dumps(_message().to_wire())

    def step() -> None:
        payload = f"{ROOM}\n{text}".encode()
        room, _, message = payload.decode("utf-8").partition("\n")
        offset_of(room, message)
        head = "[" + sio.dumps("message") + "," + message
        frame = SharedText("4" + sio.encode_event("/", sio.EncodedJSON(head + "]")))
        frame.websocket_frame()

    return _per_call(step)


def flush() -> float:
    """The session's flush: its two queued frames (ack, broadcast) as one write's bytes."""
    ack = "43123" + "[" + "x" * 330 + "]"
    shared = SharedText("42" + "y" * 350)

    def step() -> None:
        wire_bytes([ack, shared])

    return _per_call(step)


async def _store_run(store: Any, senders: int, rounds: int) -> tuple[float, float, float]:
    """``senders`` concurrent appends per round; returns (wall, process CPU, main CPU) per send."""
    await store.open()
    try:
        drafts = [
            [MessageDraft(f"room-{i}", "text", 1_700_000_000_000 + r, SENDER, TEXT, None,
                          f"c{r}") for i in range(senders)]
            for r in range(rounds)
        ]  # fmt: skip
        for batch in drafts[:5]:  # warm up: rooms exist, statements are prepared
            await asyncio.gather(*(store.append(d) for d in batch))
        wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
        for batch in drafts[5:]:
            await asyncio.gather(*(store.append(d) for d in batch))
        n = senders * (rounds - 5)
        return (
            (time.perf_counter() - wall) / n * 1e6,
            (time.process_time() - cpu) / n * 1e6,
            (time.thread_time() - main) / n * 1e6,
        )
    finally:
        await store.close()


def store_costs() -> dict[str, tuple[float, float, float]]:
    with tempfile.TemporaryDirectory(prefix="roomcast-breakdown-") as folder:
        sqlite = asyncio.run(_store_run(SqliteStore(Path(folder) / "b.db"), 100, 205))
    memory = asyncio.run(_store_run(MemoryStore(), 100, 205))
    return {"sqlite": sqlite, "memory": memory}


def sqlite_statements(senders: int = 100, rounds: int = 250) -> dict[str, float]:
    """The writer's statements for batches of ``senders`` sends, one room each, us per send.

    The schema and statements of SqliteStore, issued directly: each room's last offset
    read, the message inserted, the rooms' rows upserted, and the commit (WAL writes and
    fsync, checkpoints included).
    """
    parts = dict.fromkeys(("read offset", "insert message", "upsert room", "commit"), 0.0)
    with tempfile.TemporaryDirectory(prefix="roomcast-breakdown-") as folder:
        conn = _open_writer(Path(folder) / "s.db", 5.0)
        offsets = [0] * senders
        for r in range(rounds):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("PRAGMA defer_foreign_keys = ON")
            t0 = time.thread_time()
            for i in range(senders):
                conn.execute(_LAST_OFFSET, (f"r{i}",))
            t1 = time.thread_time()
            for i in range(senders):
                offsets[i] += 1
                conn.execute(_INSERT_MESSAGE, (f"r{i}", offsets[i], os.urandom(16).hex(),
                             1_700_000_000_000, "text", SENDER.id, SENDER.name, TEXT, None,
                             f"c{r}"))  # fmt: skip
            t2 = time.thread_time()
            conn.executemany(
                _UPSERT_ROOM, [(f"r{i}", offsets[i], 1, r * senders + i) for i in range(senders)]
            )
            t3 = time.thread_time()
            conn.execute("COMMIT")
            t4 = time.thread_time()
            for key, spent in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                parts[key] += spent
        conn.close()
    return {key: spent / (senders * rounds) * 1e6 for key, spent in parts.items()}


def main() -> None:
    rows = [
        ("WebSocket frame in (websockets' parser, UTF-8 decode)", frame_in()),
        ("Engine.IO + Socket.IO decode (JSON included)", decode()),
        ("chat validation (parse_send, draft)", validate()),
        ("ack encode (message JSON, ack packet)", ack_encode()),
        ("broadcast: bus payload, catch-up check, event text, frame", broadcast()),
        ("flush: the two frames as one write's bytes", flush()),
    ]
    print(f"Python {sys.version.split()[0]}; microseconds per send\n")
    print("| stage | us |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.2f} |")
    print(f"| sum of the above | {sum(us for _, us in rows):.2f} |")
    print("\n| store, 100 concurrent appends | wall us | process CPU us | main thread CPU us |")
    print("|---|---:|---:|---:|")
    for name, (wall, cpu, main_cpu) in store_costs().items():
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {main_cpu:.1f} |")
    statements = sqlite_statements()
    print("\n| SQLite writer, batches of 100 sends to 100 rooms | CPU us per send |\n|---|---:|")
    for name, us in statements.items():
        print(f"| {name} | {us:.1f} |")
    print(f"| in all | {sum(statements.values()):.1f} |")


if __name__ == "__main__":
    main()
