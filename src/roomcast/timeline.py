"""A room's timeline read from the store: messages and events merged by time, and exports.

Both are read page by page and merged as they come, so an export of a long session
streams in bounded memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import tzinfo
from typing import Any, Literal

from roomcast.core import transcript
from roomcast.ports import Store

__all__ = [
    "EXPORT_FORMATS",
    "ExportFormat",
    "export_chunks",
    "export_format",
    "media_type",
    "timeline_entries",
]

ExportFormat = Literal["csv", "json", "md"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json", "md")
PAGE = 500

_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
}


def media_type(fmt: ExportFormat) -> str:
    """The Content-Type of an export in ``fmt``."""
    return _MEDIA_TYPES[fmt]


async def _messages(store: Store, room: str) -> AsyncIterator[dict[str, Any]]:
    since = 0
    while True:
        page = await store.read(room, since=since, limit=PAGE)
        for message in page:
            yield {"type": "message", **message.to_wire()}
        if len(page) < PAGE:
            return
        since = page[-1].offset


async def _events(store: Store, room: str) -> AsyncIterator[dict[str, Any]]:
    after = 0
    while True:
        page = await store.events(room, after=after, limit=PAGE)
        for event in page:
            yield event.to_wire()
        if len(page) < PAGE:
            return
        after = page[-1].seq


async def _next(source: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
    return await anext(source, None)


async def timeline_entries(store: Store, room: str) -> AsyncIterator[dict[str, Any]]:
    """Every message and event of ``room``, oldest first; a message goes first on a tie."""
    messages, events = _messages(store, room), _events(store, room)
    message, event = await _next(messages), await _next(events)
    while message is not None or event is not None:
        if event is None or (message is not None and message["ts"] <= event["ts"]):
            assert message is not None
            yield message
            message = await _next(messages)
        else:
            yield event
            event = await _next(events)


def export_format(fmt: ExportFormat, room: str, delimiter: str = ",") -> transcript.Format:
    """The writer of ``fmt``; ``ValueError`` for a delimiter other than ``,`` or ``;``."""
    if fmt == "csv":
        return transcript.CsvFormat(delimiter)
    if fmt == "json":
        return transcript.JsonFormat(room)
    return transcript.MarkdownFormat(room)


async def export_chunks(
    store: Store, room: str, fmt: transcript.Format, tz: tzinfo
) -> AsyncIterator[str]:
    """The room's record as text in ``fmt``, in chunks of about 16 KiB, ready to stream."""
    pending = [fmt.start()]
    size = 0
    async for entry in timeline_entries(store, room):
        text = fmt.row(transcript.row_of(entry, tz))
        pending.append(text)
        size += len(text)
        if size >= 16_384:
            yield "".join(pending)
            pending, size = [], 0
    pending.append(fmt.end())
    yield "".join(pending)
