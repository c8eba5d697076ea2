"""How the server's log lines look: text for people (the default) or JSON for collectors.

``roomcast serve --log-format json`` writes one JSON object per line to stderr::

    {"ts": "2026-12-05T23:40:01.123Z", "level": "info", "logger": "roomcast.transport...",
     "message": "...", "request_id": "9f0c...", "connection": "Xk2..."}

``request_id`` is there on every line logged while an HTTP request is handled,
``connection`` (the Engine.IO session id) on every line logged for a connection (see
:mod:`roomcast.log_context`); fields passed with ``extra=`` follow. uvicorn's own lines take
the same path, and with JSON its access log is turned on: one line per HTTP request with
``method``, ``path``, ``status`` and the request id, what log collectors expect. Text lines
stay as they were, and without an access log, so a terminal stays readable.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from roomcast.log_context import CONNECTION_ID, REQUEST_ID

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging", "uvicorn_log_options"]

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",  # 3.12 adds it to every record
    "color_message",  # uvicorn's coloured copy of the message
}


# A signed link carries its token in the query (/r/room?token=...): a bearer secret that
# has no place in logs.
_SECRET_IN_QUERY = re.compile(r"([?&](?:token|key|password)=)[^&#]*", re.IGNORECASE)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON, with the current request and connection ids."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Read here, in the logging call: the handler runs in the caller's context.
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        connection = CONNECTION_ID.get()
        if connection is not None:
            line["connection"] = connection
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(_access_fields(record.args))  # its message holds the raw path
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # default=str: an odd value passed in extra= must not lose the whole line.
        return json.dumps(line, default=str)


def _access_fields(args: tuple[object, ...]) -> dict[str, object]:
    # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, path, version, status).
    if len(args) != 5:
        return {}
    client, method, path, _version, status = args
    path = _SECRET_IN_QUERY.sub(r"\1[redacted]", str(path))
    return {
        "message": f"{method} {path} {status}",
        "client": client,
        "method": method,
        "path": path,
        "status": status,
    }


def configure_logging(level: str, log_format: str) -> None:
    """Set up the root logger of this process (worker processes inherit it by fork)."""
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level.upper(), handlers=[handler])
    else:
        logging.basicConfig(level=level.upper(), format=TEXT_FORMAT)


def uvicorn_log_options(log_format: str) -> dict[str, Any]:
    """``uvicorn.Config`` arguments that make uvicorn log the way :func:`configure_logging` set.

    JSON: uvicorn installs no handlers of its own (its loggers reach the root's JSON handler)
    and logs each request. Text: uvicorn's own default look, and no access log, as before.
    """
    if log_format == "json":
        return {"log_config": None, "access_log": True}
    return {"access_log": False}
