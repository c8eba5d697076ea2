"""uvicorn's httptools protocol with the two limits it lacks: request head size and time.

Measured against uvicorn 0.3x with httptools: a request head of 20 MB of headers was read
into memory without complaint, and a connection that sends half a request line (or
nothing) was kept open indefinitely, so a few thousand slow clients ("slowloris") would
hold every file descriptor. Here a request head (request line and headers) may be at most
:data:`MAX_HEAD` bytes, answered ``431`` past that, and must be complete within
``--header-timeout`` seconds of the connection opening or the request starting, answered
``408``. Bodies are left alone: they are read by the app, bounded by ``--max-payload``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD", "GuardedHttpProtocol"]

log = logging.getLogger("uvicorn.error")

#: Largest request head, in bytes: four times Node's default, ample for big cookies.
MAX_HEAD = 64 * 1024


class _HeadTooLarge(Exception):
    """Raised inside a parser callback to stop parsing; httptools re-raises it wrapped."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """An httptools protocol that bounds each request head's size and reading time."""

    #: Seconds a request head may take to arrive; set by a subclass (``engine_http_protocol``).
    head_timeout: ClassVar[float] = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_size = 0  # bytes of request line and headers parsed
        self._head_received = 0  # bytes received while the head was still incomplete
        self._head_timer: asyncio.TimerHandle | None = None
        self._refusal: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def take_over(
        self, transport: asyncio.Transport, received: bytes, head_deadline: float
    ) -> None:
        """Go on with a connection another protocol opened and read ``received`` from.

        The head's deadline stays the one that began when the connection opened.
        """
        transport.set_protocol(self)
        super().connection_made(transport)  # uvicorn's: our own would start a new deadline
        self._head_timer = self.loop.call_at(head_deadline, self._head_overdue)
        if received:
            self.data_received(received)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # httptools keeps a header's parts until the header ends, so on_header alone does
        # not bound one endless header: count what arrives while the head is unfinished
        # (a chunk that finishes it is not counted, as it may carry the body too).
        if self._head_timer is not None and not self.transport.is_closing():
            self._head_received += len(data)
            if self._head_received > MAX_HEAD:
                self._refuse(b"431 Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = self._head_received = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for any parser error, ours (raised in on_url/on_header) too.
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self._refuse(self._refusal)

    # -- the limits ------------------------------------------------------------------------

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD:
            self._refusal = b"431 Request Header Fields Too Large"
            raise _HeadTooLarge(f"request head over {MAX_HEAD} bytes")

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_overdue)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind a response still being sent (a long poll):
            # writing now would cut into that response, so look again later.
            self._arm_head_timer()
            return
        log.info("closing a connection whose request head took over %ss", self.head_timeout)
        self._refuse(b"408 Request Timeout")

    def _refuse(self, status: bytes) -> None:
        text = status.partition(b" ")[2]
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(text)).encode("ascii") + b"\r\n"
            b"connection: close\r\n\r\n" + text
        )
        self.transport.close()
