"""An HTTP request still running when the shutdown grace ends gets 503 ``unavailable``.

uvicorn cancels such requests, answers 500 and logs a traceback, as for a crash. Being
stopped is no crash: the client gets the API's error shape with the code it can act on
(try again, once the server is back), and the log says what happened in one line.
"""

from __future__ import annotations

import asyncio
import logging

from roomcast.core.errors import Unavailable
from roomcast.transport.asgi import ASGIApp, Message, Receive, Scope, Send, respond

__all__ = ["AnswerCutOff"]

log = logging.getLogger(__name__)


class AnswerCutOff:
    """ASGI middleware: a cancelled HTTP request is answered 503 if nothing was sent yet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_once_started(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, send_once_started)
        except asyncio.CancelledError:
            # Only the server cancels a request (its graceful shutdown ran out of time):
            # the request ends here, answered, rather than as an error.
            log.warning("shutdown grace over: %s %s cut off", scope["method"], scope["path"])
            if not started:
                error = Unavailable("the server is restarting; try again in a moment")
                await respond(send, error.http_status, {"ok": False, "error": error.to_wire()})
