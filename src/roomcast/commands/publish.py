"""``roomcast publish ROOM DATA`` and ``roomcast room ROOM --keep-last N``, over HTTP.

They talk to a running server (``--url``, default ``ROOMCAST_URL`` or the local one) with
an API key (``--key`` or ``ROOMCAST_KEY``), so every member of the room gets the message.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from roomcast.client.publisher import Publisher
from roomcast.core.errors import BadRequest, RoomcastError

__all__ = ["parse_data", "run_publish", "run_room"]


def parse_data(raw: str) -> Any:
    """The DATA argument: JSON, or ``-`` to read JSON from standard input."""
    if raw == "-":
        raw = sys.stdin.read()
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise BadRequest(
            f"DATA must be JSON, e.g. '{{\"n\": 4.2}}' or '\"hello\"'; for plain text use "
            f"--text {raw!r}"
        ) from None


def run_publish(
    url: str, key: str | None, room: str, data: str | None, text: str | None, name: str | None
) -> int:
    """Publish one message and print it as stored; returns the exit code."""
    try:
        if (data is None) == (text is None):
            raise BadRequest("give DATA (JSON) or --text TEXT, one of them")
        with Publisher(url, key) as publisher:
            value = None if data is None else parse_data(data)
            message = publisher.publish(room, value, text=text, name=name)
    except (RoomcastError, ValueError) as error:
        print(f"roomcast: error: {getattr(error, 'message', error)}", file=sys.stderr)
        return 1
    print(json.dumps(message, ensure_ascii=False))
    return 0


def run_room(url: str, key: str | None, room: str, policy: dict[str, Any]) -> int:
    """Change a room's policy and print the room as the server now has it."""
    try:
        with Publisher(url, key) as publisher:
            answer = publisher.set_policy(room, **policy)
    except RoomcastError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 1
    print(json.dumps({"room": answer["room"], **answer["policy"]}, ensure_ascii=False))
    return 0
