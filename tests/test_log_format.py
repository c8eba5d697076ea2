"""The JSON log line, and the ids a log line takes from its context."""

from __future__ import annotations

import contextvars
import json
import logging

from roomcast.log_context import CONNECTION_ID, REQUEST_ID, detached, request_id_from
from roomcast.log_format import JsonFormatter


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "roomcast.test", "levelno": logging.WARNING})
    made.levelname, made.msg, made.args = "WARNING", message, args
    made.__dict__.update(extra)
    return made


def formatted(made: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter().format(made)
    assert "\n" not in line
    parsed = json.loads(line)
    assert isinstance(parsed, dict)
    return parsed


def test_a_line_has_its_fields_its_extras_and_no_ids_outside_a_request() -> None:
    line = formatted(record("room %r: %d stored", "lobby", 3, room="lobby", took=object()))
    assert line["level"] == "warning" and line["logger"] == "roomcast.test"
    assert line["message"] == "room 'lobby': 3 stored"
    assert str(line["ts"]).endswith("Z") and len(str(line["ts"])) == 24
    assert line["room"] == "lobby" and str(line["took"]).startswith("<object")
    assert "request_id" not in line and "connection" not in line


def test_ids_come_from_the_context_and_detached_work_has_none() -> None:
    def inside() -> tuple[dict[str, object], dict[str, object]]:
        REQUEST_ID.set("r-1")
        CONNECTION_ID.set("c-1")
        return formatted(record("x")), detached().run(lambda: formatted(record("y")))

    mine, shared = contextvars.copy_context().run(inside)
    assert mine["request_id"] == "r-1" and mine["connection"] == "c-1"
    assert "request_id" not in shared and "connection" not in shared


def test_an_exception_is_one_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        made = record("failed")
        made.exc_info = sys.exc_info()
    line = formatted(made)
    assert "ValueError: boom" in str(line["exception"])


def test_incoming_request_ids_are_kept_only_when_sane() -> None:
    assert request_id_from("4bf92f3577b34da6a3ce929d0e0e4736") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert request_id_from("trace/1:a=b") == "trace/1:a=b"
    for hostile in (None, "", "a b", 'x"y', "x" * 129, "é", "a\nb"):
        made = request_id_from(hostile)
        assert made != hostile and len(made) == 32
