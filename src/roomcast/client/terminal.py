"""``roomcast chat ROOM --name NAME``: a chat in the terminal, built on :class:`AsyncClient`.

It prints the latest history, then each message as it comes, as ``HH:MM Name: text``
(data as compact JSON); each line typed is sent. ``/quit`` or end of input leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, TextIO

from roomcast.client.async_client import AsyncClient
from roomcast.core.errors import RoomcastError
from roomcast.protocol.socketio import dumps

__all__ = ["add_chat_parser", "chat", "format_message", "run"]

DEFAULT_URL = "http://127.0.0.1:8000"
QUIT = "/quit"


def add_chat_parser(commands: Any) -> None:
    """Add ``chat`` to the ``roomcast`` command's subparsers; ``args.run(args)`` runs it."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "chat",
        help="chat in a room from the terminal",
        description="Chat in ROOM from the terminal: history, then live messages; "
        f"each line typed is sent, {QUIT} or end of input (Ctrl+D) leaves.",
    )
    parser.add_argument("room", metavar="ROOM", help="the room to join")
    parser.add_argument("--name", required=True, help="your name in the room")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the server [default: {DEFAULT_URL}]")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the chat until the user leaves; returns the process exit code."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # A message in a script the terminal cannot show must not end the chat.
            stream.reconfigure(errors="replace")
    try:
        return asyncio.run(chat(args.url, args.room, args.name))
    except KeyboardInterrupt:
        return 130


def _printable(text: str) -> str:
    # Another member's text must not drive this terminal: escape sequences are shown, not run.
    return "".join(ch if ch.isprintable() or ch == "\n" else repr(ch)[1:-1] for ch in text)


def format_message(message: dict[str, Any]) -> str:
    """``HH:MM Name: text`` in local time; data as compact JSON; ``*`` for system messages."""
    ts = message.get("ts")
    clock = time.strftime("%H:%M", time.localtime(ts / 1000)) if isinstance(ts, int) else "--:--"
    sender = message.get("sender")
    who = f"{sender.get('name')}:" if isinstance(sender, dict) else "*"
    parts = []
    if message.get("text") is not None:
        parts.append(str(message["text"]))
    if message.get("data") is not None:
        parts.append(dumps(message["data"]))
    return _printable(f"{clock} {who} {' '.join(parts)}")


async def _lines(stdin: TextIO) -> AsyncIterator[str]:
    """Lines typed, without their newline, until end of input."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread, not the loop's executor: after /quit it may still be blocked in a
    # read, and the process must exit all the same.
    threading.Thread(target=read, name="roomcast-chat-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def _show_messages(client: AsyncClient, room: str, out: TextIO) -> None:
    async for message in client.messages(room):
        print(format_message(message), file=out, flush=True)


async def chat(
    url: str, room: str, name: str, *, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    """Chat in ``room`` as ``name``; returns the exit code (1 if it cannot start)."""

    def say(line: str) -> None:
        print(f"-- {line}", file=out, flush=True)

    client = AsyncClient(url, name)
    client.on("disconnect", lambda reason: say(f"connection lost ({reason}); reconnecting..."))
    client.on("reconnect", lambda _: say("reconnected"))
    try:
        await client.connect()
        joined = await client.join(room)
    except RoomcastError as error:
        await client.close()
        print(f"roomcast chat: {error.message}", file=sys.stderr, flush=True)
        return 1
    online = sum(member["state"] == "online" for member in joined["members"])
    say(f"joined {room} as {name}, {online} online; type a message and Enter, {QUIT} to leave")
    for message in joined["messages"]:
        print(format_message(message), file=out, flush=True)
    shown = asyncio.create_task(_show_messages(client, room, out))
    try:
        async for line in _lines(stdin):
            if line.strip() == QUIT:
                break
            if not line.strip():
                continue
            try:
                await client.send(room, line)
            except RoomcastError as error:
                say(f"not sent: {error.message}")
    finally:
        shown.cancel()
        await client.close()
    return 0
