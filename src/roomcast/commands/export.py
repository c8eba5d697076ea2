"""``roomcast export ROOM --format csv``: a room's session record from the data folder.

It reads the server's SQLite file directly, so it works whether or not the server runs.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from roomcast.app import make_store
from roomcast.commands.banner import store_place
from roomcast.config import Settings
from roomcast.core.errors import ConfigError, NotFound
from roomcast.core.validation import parse_room
from roomcast.timeline import ExportFormat, export_chunks, export_format

__all__ = ["run_export"]


async def _export(
    settings: Settings, room: str, fmt: ExportFormat, delimiter: str, out: BinaryIO
) -> None:
    if settings.store == "memory":
        raise ConfigError("a server run with --store memory keeps no record to export")
    if settings.store == "sqlite" and not (settings.data_dir / "roomcast.db").exists():
        raise ConfigError(f"--data-dir: there is no Roomcast database in {settings.data_dir}")
    store = make_store(settings)
    await store.open()
    try:
        if await store.last_offset(room) == 0 and not await store.events(room, limit=1):
            raise NotFound(
                f"room {room!r} has no messages or events in {store_place(settings)}; "
                "is it the server's store (--data-dir, --store)?"
            )
        local = datetime.now().astimezone().tzinfo
        assert local is not None, "astimezone() always sets one"
        async for chunk in export_chunks(store, room, export_format(fmt, room, delimiter), local):
            out.write(chunk.encode("utf-8"))
    finally:
        await store.close()


def run_export(
    settings: Settings, room: str, fmt: ExportFormat, delimiter: str, output: Path | None
) -> int:
    """Write the record to ``output`` (or stdout); returns the exit code."""
    room = parse_room(room)
    if output is None:
        asyncio.run(_export(settings, room, fmt, delimiter, sys.stdout.buffer))
        sys.stdout.flush()
        return 0
    temporary = output.with_name(f".{output.name}.partial")
    with temporary.open("wb") as file:
        asyncio.run(_export(settings, room, fmt, delimiter, file))
    temporary.replace(output)  # a failed export leaves no half file behind
    print(f"Wrote the record of room {room!r} to {output}", file=sys.stderr)
    return 0
