"""Session records as CSV, JSON and Markdown, without a server."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest

from roomcast.core.transcript import (
    COLUMNS,
    CsvFormat,
    JsonFormat,
    MarkdownFormat,
    iso_time,
    render,
    row_of,
)

TZ = timezone(timedelta(hours=1))
T0 = 1_795_000_000_000
HARD = 'Ünal, "the" tester;\nsays: ça va? 🙂'

ENTRIES: list[dict[str, Any]] = [
    {"type": "event", "room": "r", "seq": 1, "ts": T0, "kind": "join",
     "actor": {"id": "n-1", "name": HARD}, "data": None},
    {"type": "message", "room": "r", "offset": 1, "id": "a", "ts": T0 + 1, "kind": "text",
     "sender": {"id": "n-1", "name": HARD}, "text": HARD},
    {"type": "event", "room": "r", "seq": 2, "ts": T0 + 2, "kind": "step",
     "actor": {"id": "n-1", "name": HARD}, "data": {"step": "cart; 2", "data": {"n": "a,b"}}},
    {"type": "message", "room": "r", "offset": 2, "id": "b", "ts": T0 + 3, "kind": "system",
     "sender": None, "text": "Task 2"},
    {"type": "event", "room": "r", "seq": 3, "ts": T0 + 4, "kind": "note",
     "actor": {"id": "console:x", "name": "Facilitator"}, "data": {"text": "line 1\nline 2"}},
]  # fmt: skip


def rows() -> list[dict[str, Any]]:
    return [row_of(entry, TZ) for entry in ENTRIES]


def test_times_are_iso_8601_with_the_offset() -> None:
    assert iso_time(T0, TZ) == "2026-11-18T12:06:40.000+01:00"
    assert iso_time(T0 + 5, UTC).endswith(".005+00:00")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_parses_back_to_the_same_rows_as_json(delimiter: str) -> None:
    text = "".join(render(CsvFormat(delimiter), rows()))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))
    assert tuple(parsed[0]) == COLUMNS

    document = json.loads("".join(render(JsonFormat("r"), rows())))
    assert document["room"] == "r"
    as_text = [
        [
            "" if value is None else value if isinstance(value, str) else
            str(value) if isinstance(value, int) else
            json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            for value in (entry[column] for column in COLUMNS)
        ]
        for entry in document["entries"]
    ]  # fmt: skip
    assert parsed[1:] == as_text
    assert parsed[2][COLUMNS.index("text")] == HARD
    assert parsed[2][COLUMNS.index("name")] == HARD
    assert parsed[3][COLUMNS.index("text")] == "cart; 2"
    assert parsed[5][COLUMNS.index("text")] == "line 1\nline 2"
    assert [row[COLUMNS.index("kind")] for row in parsed[1:]] == [
        "join", "text", "step", "system", "note",
    ]  # fmt: skip


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused() -> None:
    entry = {**ENTRIES[1], "text": '=HYPERLINK("http://x")', "sender": {"id": "n", "name": "@me"}}
    text = "".join(render(CsvFormat(), [row_of(entry, TZ)]))
    row = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1]
    assert row[COLUMNS.index("text")] == '\'=HYPERLINK("http://x")'
    assert row[COLUMNS.index("name")] == "'@me"


def test_markdown_escapes_what_people_typed() -> None:
    entry = {**ENTRIES[1], "text": "<script>alert(1)</script> *bold* | 1. item"}
    text = "".join(render(MarkdownFormat("r"), [row_of(e, TZ) for e in (*ENTRIES, entry)]))
    assert text.startswith("# Session record of room r\n")
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\*bold\\*" in text and "\\|" in text
    assert "**Note** by Facilitator: line 1\n  line 2" in text
    assert "*Task 2*" in text
    assert "reached step* cart; 2" in text


def test_an_unknown_delimiter_is_refused() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        CsvFormat("\t")


def test_why_someone_left_is_said_in_words() -> None:
    leave = {**ENTRIES[0], "kind": "leave", "data": {"reason": "transport close"}}
    assert row_of(leave, TZ)["text"] == "closed or left the page, or lost the network"
    odd = {**ENTRIES[0], "kind": "leave", "data": {"reason": "something new"}}
    assert row_of(odd, TZ)["text"] == "something new"
