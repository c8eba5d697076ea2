"""An id for every HTTP request: in its log lines and in its response's ``X-Request-ID``.

A sane incoming ``X-Request-ID`` (from a proxy or a tracing client) is kept, so one id
follows a request through every hop; otherwise a new one is made. Clients quote the
header's value in a bug report, and the operator finds the request's log lines by it.
"""

from __future__ import annotations

from roomcast.log_context import REQUEST_ID, request_id_from
from roomcast.transport.asgi import Message, Scope, Send, header

__all__ = ["with_request_id"]


def with_request_id(scope: Scope, send: Send) -> Send:
    """Set the request's id for this task's log lines; returns ``send`` adding the header."""
    request_id = request_id_from(header(scope, b"x-request-id"))
    # Set in the request's own task (uvicorn runs each in one): later lines of the
    # request, uvicorn's access and error lines included, carry it.
    REQUEST_ID.set(request_id)
    echoed = (b"x-request-id", request_id.encode("latin-1"))

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), echoed]}
        await send(message)

    return send_with_id
