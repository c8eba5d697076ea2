"""Transcript downloads: a room's record streamed as CSV, JSON or Markdown.

The same response serves the console (``/console/export/{room}``, session cookie) and
the HTTP API (``/api/v1/rooms/{room}/transcript``, API key): both may read notes that
testers never see, so neither is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from roomcast.console_auth import COOKIE, ConsoleAuth
from roomcast.core.errors import BadRequest, Unauthorized
from roomcast.core.transcript import DELIMITERS
from roomcast.core.validation import parse_room
from roomcast.ports import Store
from roomcast.timeline import EXPORT_FORMATS, ExportFormat, export_chunks, export_format, media_type

__all__ = ["console_export", "transcript_response"]


def _format(request: Request) -> tuple[ExportFormat, str]:
    fmt = request.query_params.get("format", "csv")
    delimiter = request.query_params.get("delimiter", ",")
    for known in EXPORT_FORMATS:
        if fmt == known:
            break
    else:
        raise BadRequest(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    if delimiter not in DELIMITERS:
        raise BadRequest("delimiter must be ',' or ';'")
    return known, delimiter


def transcript_response(store: Store, request: Request) -> Response:
    """The streamed export of ``request``'s room in its ``format`` and ``delimiter``."""
    room = parse_room(request.path_params["room"])
    fmt, delimiter = _format(request)
    local = datetime.now().astimezone().tzinfo  # the lab's own clock, with its offset
    assert local is not None, "astimezone() always sets one"
    chunks = export_chunks(store, room, export_format(fmt, room, delimiter), local)
    return StreamingResponse(
        (chunk.encode("utf-8") async for chunk in chunks),
        media_type=media_type(fmt),
        headers={
            "content-disposition": f'attachment; filename="{room}.{fmt}"',
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
    )


def console_export(store: Store, auth: ConsoleAuth) -> Callable[[Request], Awaitable[Response]]:
    """The console's export endpoint: the transcript for a signed-in facilitator."""

    async def endpoint(request: Request) -> Response:
        try:
            if not auth.session_ok(request.cookies.get(COOKIE)):
                raise Unauthorized("sign in to the console first")
            return transcript_response(store, request)
        except (BadRequest, Unauthorized) as error:
            return JSONResponse(
                {"ok": False, "error": error.to_wire()}, status_code=error.http_status
            )

    return endpoint
