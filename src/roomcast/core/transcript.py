"""A room's session record as rows, and those rows as CSV, JSON or Markdown text.

A timeline entry is a ``message`` (its wire form plus ``type: "message"``) or an ``event``
(``TimelineEvent.to_wire()``). Every format is made from the same flat rows, so a CSV and
a JSON export of one room hold the same values. The time zone is passed in.

CSV opens right in spreadsheet apps: UTF-8 with a byte-order mark, ``,`` or ``;`` between
fields, and a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``
first) gets a leading ``'``, which those apps hide.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any

__all__ = [
    "COLUMNS",
    "DELIMITERS",
    "CsvFormat",
    "Format",
    "JsonFormat",
    "MarkdownFormat",
    "iso_time",
    "render",
    "row_of",
]

COLUMNS = ("time", "type", "kind", "name", "member", "text", "offset", "details")
DELIMITERS = (",", ";")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What each event kind puts in the "text" column: the thing a reader wants to see.
_EVENT_TEXT = {"note": "text", "step": "step", "visibility": "state", "leave": "reason"}


# Why a member left, as Socket.IO and the chat report it, in words for a transcript reader.
_LEAVE_REASONS = {
    "left": "left the room",
    "transport close": "closed or left the page, or lost the network",
    "transport error": "lost the network",
    "ping timeout": "stopped answering (network lost or device asleep)",
    "client namespace disconnect": "closed the chat",
    "server shutting down": "the server restarted",
}


def iso_time(ts: int, tz: tzinfo) -> str:
    """ISO 8601 with milliseconds and the UTC offset, e.g. ``2026-11-22T10:02:03.120+01:00``."""
    return datetime.fromtimestamp(ts / 1000, tz).isoformat(timespec="milliseconds")


def row_of(entry: Mapping[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The flat row of one timeline entry; ``details`` is JSON-able data or None."""
    who = entry.get("sender") if entry["type"] == "message" else entry.get("actor")
    if entry["type"] == "message":
        text, offset, details = entry.get("text"), entry["offset"], entry.get("data")
    else:
        data = entry.get("data")
        key = _EVENT_TEXT.get(entry["kind"])
        text = data.get(key) if key and isinstance(data, dict) else None
        if entry["kind"] == "leave" and isinstance(text, str):
            text = _LEAVE_REASONS.get(text, text)
        offset, details = None, data
    return {
        "time": iso_time(entry["ts"], tz),
        "type": entry["type"],
        "kind": entry["kind"],
        "name": who["name"] if who else "",
        "member": who["id"] if who else "",
        "text": "" if text is None else str(text),
        "offset": offset,
        "details": details,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if isinstance(value, int):
        return str(value)
    return _cell(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class CsvFormat:
    """CSV with a header row; the text starts with the byte-order mark."""

    def __init__(self, delimiter: str = ",") -> None:
        if delimiter not in DELIMITERS:
            raise ValueError(f"delimiter must be one of {DELIMITERS}")
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\r\n")

    def _line(self, cells: Iterable[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()

    def start(self) -> str:
        return "\ufeff" + self._line(COLUMNS)

    def row(self, row: Mapping[str, Any]) -> str:
        return self._line(_cell(row[column]) for column in COLUMNS)

    def end(self) -> str:
        return ""


class JsonFormat:
    """``{"room": ..., "entries": [row, ...]}``, one entry per line."""

    def __init__(self, room: str) -> None:
        self._room = room
        self._separator = "\n"

    def start(self) -> str:
        return "{" + f'"room": {json.dumps(self._room)},\n"entries": ['

    def row(self, row: Mapping[str, Any]) -> str:
        text = self._separator + json.dumps(dict(row), ensure_ascii=False)
        self._separator = ",\n"
        return text

    def end(self) -> str:
        return "\n]}\n"


# "&" too: unescaped, a typed "&lt;" would be shown as "<" (an entity, not what was typed).
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~#&"})


def _markdown_text(text: str) -> str:
    # Escaped so a viewer shows what was typed; continuation lines stay in the list item.
    lines = [line.translate(_MARKDOWN_SPECIAL) for line in text.splitlines() or [""]]
    lines = [
        "\\" + line if line[:1] in ("-", "+", "=") or line[:1].isdigit() else line for line in lines
    ]
    return "\n  ".join(lines)


_EVENT_WORDS = {
    "join": "joined",
    "leave": "left",
    "reconnect": "reconnected",
    "visibility": "page is",
    "step": "reached step",
    "note": "note:",
}


class MarkdownFormat:
    """A readable Markdown record: one list item per entry, notes marked as such."""

    def __init__(self, room: str) -> None:
        self._room = room

    def start(self) -> str:
        return f"# Session record of room {_markdown_text(self._room)}\n\n"

    def row(self, row: Mapping[str, Any]) -> str:
        name = _markdown_text(row["name"]) if row["name"] else "system"
        text = _markdown_text(row["text"])
        if row["type"] == "message":
            body = f"**{name}**: {text}" if row["kind"] != "system" else f"*{text}*"
            if row["kind"] == "data":
                body = f"**{name}** sent data `{_cell(row['details']).replace('`', '')}`"
        elif row["kind"] == "note":
            body = f"**Note** by {name}: {text}"
        else:
            body = f"*{name} {_EVENT_WORDS.get(row['kind'], row['kind'])}* {text}".rstrip()
        return f"- `{row['time']}` {body}\n"

    def end(self) -> str:
        return ""


Format = CsvFormat | JsonFormat | MarkdownFormat


def render(fmt: Format, rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Every piece of text of ``rows`` in ``fmt``, start to end."""
    yield fmt.start()
    for row in rows:
        yield fmt.row(row)
    yield fmt.end()
