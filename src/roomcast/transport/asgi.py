"""Small helpers for raw ASGI responses; shared by the Engine.IO endpoint and pages."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "header", "read_body", "respond"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes), decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Send,
    status: int,
    body: bytes | str | dict[str, Any],
    *,
    content_type: str = "text/plain; charset=UTF-8",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete HTTP response; a dict body is sent as JSON."""
    if isinstance(body, dict):
        body = json.dumps(body)
        content_type = "application/json"
    data = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(data)).encode("latin-1")),
        (b"cache-control", b"no-store"),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": data})


class BodyTooLarge(Exception):
    """The request body is larger than the allowed limit."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body; raises :class:`BodyTooLarge` past ``limit`` bytes."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
