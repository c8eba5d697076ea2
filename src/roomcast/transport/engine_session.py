"""One Engine.IO session: its outgoing queue, heartbeat timers and current transport.

The queue holds ready-to-send frames: ``str`` is a whole text packet (``"42[...]"``),
``bytes`` a binary message. A broadcast puts the *same* string object in every
subscriber's queue, so it is encoded once.

A WebSocket session whose server offers a synchronous write (see
:mod:`roomcast.transport.ws_protocol`) is marked dirty on send and flushed with every
other dirty session in one callback per event-loop pass: a broadcast to N sessions costs
N appends and N socket writes, not N task wake-ups. Its writer task only exists while
the socket is back-pressured, and to send the close frame. Without that write, the writer
task drains the queue; a long-polling session is drained by its pending GET request.

A session that holds too much for its client is closed as a slow consumer and its socket
aborted: more than ``send_buffer`` frames queued, or more than ``send_buffer_bytes`` held
in all (frames queued, frames its writer task has taken, and the socket's write buffer).
Queued text counts one byte per character. The client recovers on reconnect. Bytes are
counted when a write is refused, not on every send: a broadcast's frames are shared, so
what a session holds of its own is only what it has copied out to be written.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from roomcast.core.errors import RoomcastError
from roomcast.protocol.engineio import RECORD_SEPARATOR
from roomcast.transport.frames import SharedText, wire_bytes

if TYPE_CHECKING:
    from roomcast.transport.engine_server import EngineServer

__all__ = ["EngineSession", "Frame"]

log = logging.getLogger(__name__)

Frame = str | bytes | SharedText
TransportName = Literal["polling", "websocket"]

PING = "2"
NOOP = "6"
CLOSE = "1"


class EngineSession:
    """State of one Engine.IO session, independent of the transport under it."""

    __slots__ = (
        "_closed_event",
        "_counted",
        "_dirty",
        "_ping_tick",
        "_pong_tick",
        "_server",
        "_wakeup",
        "abort",
        "buffered",
        "close_reason",
        "closed",
        "context",
        "direct_write",
        "ensure_writer",
        "queue",
        "queued_bytes",
        "refusal",
        "remote",
        "sid",
        "taken_bytes",
        "transport",
        "upgrading",
        "writer_busy",
    )

    def __init__(
        self, server: EngineServer, sid: str, transport: TransportName, remote: str
    ) -> None:
        self._server = server
        self.sid = sid
        self.transport: TransportName = transport
        self.remote = remote
        #: Set when the session is over an abuse limit: the layer above refuses to connect
        #: with it (a ``connect_error`` the client can read, not a dropped socket).
        self.refusal: RoomcastError | None = None
        self.queue: list[Frame] = []  # a list: an empty deque already costs 0.7 KiB
        self.queued_bytes = 0  # of the first ``_counted`` frames in ``queue``
        self._counted = 0
        #: Bytes of the frames the writer task has taken and not yet written.
        self.taken_bytes = 0
        self.closed = False
        self.close_reason = ""
        self.upgrading = False
        #: Whatever the layer above keeps per session (the Socket.IO connection).
        self.context: Any = None
        #: Writes complete frames now, or returns False (closed, back-pressured).
        self.direct_write: Callable[[bytes], bool] | None = None
        #: True while the writer task holds frames it has taken but not yet written:
        #: direct writes then wait their turn, so frames never overtake each other.
        self.writer_busy = False
        #: Starts the transport's writer task if it is not running (direct-write sessions
        #: run one only while back-pressured or closing).
        self.ensure_writer: Callable[[], None] | None = None
        #: Bytes in the socket's write buffer, and aborting the socket (WebSocket only).
        self.buffered: Callable[[], int] | None = None
        self.abort: Callable[[], None] | None = None
        self._dirty = False
        self._wakeup: asyncio.Future[None] | None = None
        self._closed_event: asyncio.Event | None = None
        # Ticks of the server's timer wheels this session is due at (None: not waiting).
        self._ping_tick: int | None = None
        self._pong_tick: int | None = None

    # -- sending ---------------------------------------------------------------------------

    def send(self, frame: Frame) -> None:
        """Queue one frame; a session whose queue overflows is closed as too slow."""
        if self.closed:
            return
        queue = self.queue
        queue.append(frame)
        if len(queue) > self._server.send_buffer:
            self._drop_slow()
            return
        if self.direct_write is None:
            if self.over_bound():
                self._drop_slow()
                return
            self._wake()
        elif not self._dirty:
            self._dirty = True
            self._server.mark_dirty(self)

    def flush(self) -> None:
        """Write everything queued now if the socket takes it, else hand it to the writer."""
        self._dirty = False
        queue = self.queue
        if not queue or self.closed:
            return  # closing already woke the writer, which sends what is left
        write = self.direct_write
        assert write is not None, "only sessions with a direct write are marked dirty"
        if not self.writer_busy and write(wire_bytes(queue)):
            queue.clear()
            self.queued_bytes = self._counted = 0
        elif self.over_bound():
            self._drop_slow()
        else:  # the writer holds earlier frames, or the socket is full: it takes these too
            self._wake()

    def over_bound(self) -> bool:
        """Whether the queue, the writer's frames and the socket's buffer hold too much."""
        queue = self.queue
        if self._counted < len(queue):
            self.queued_bytes += sum(map(len, itertools.islice(queue, self._counted, None)))
            self._counted = len(queue)
        held = self.queued_bytes + self.taken_bytes
        if self.buffered is not None:
            held += self.buffered()
        return held > self._server.send_buffer_bytes

    def _drop_slow(self) -> None:
        log.info(
            "closing slow session %s: %d frames queued, %d bytes taken by its writer",
            self.sid,
            len(self.queue),
            self.taken_bytes,
        )
        self.close("slow consumer", notify_client=False)
        if self.abort is not None:
            # The client is not reading: a close frame would wait behind what it has not
            # read, holding the buffers; cut the connection instead.
            self.abort()

    def send_many(self, frames: Sequence[Frame]) -> None:
        """Queue several frames that belong together (a packet and its attachments)."""
        for frame in frames:
            self.send(frame)

    def _wake(self) -> None:
        if self.ensure_writer is not None:
            self.ensure_writer()
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_for_frames(self) -> None:
        """Return once the queue has frames or the session is closed."""
        if self.queue or self.closed:
            return
        waiter = self._wakeup
        if waiter is None or waiter.done():
            # One future shared by every waiter: a WebSocket writer and a poll left over
            # from before an upgrade can both be waiting.
            waiter = self._wakeup = asyncio.get_running_loop().create_future()
        await asyncio.shield(waiter)

    def take_frames(self) -> list[Frame]:
        """Everything queued; a writer task sets ``taken_bytes`` until it has written them."""
        frames, self.queue = self.queue, []
        self.queued_bytes = self._counted = 0
        return frames

    def drop_noops(self) -> None:
        """Forget the noops queued to end a long-polling GET (the session upgraded)."""
        self.queue = [frame for frame in self.queue if frame != NOOP]
        self.queued_bytes = self._counted = 0  # counted again when next needed

    def polling_payload(self) -> str:
        """Everything queued, as one long-polling response body."""
        parts = []
        for frame in self.take_frames():
            if isinstance(frame, bytes):
                parts.append("b" + base64.b64encode(frame).decode("ascii"))
            elif isinstance(frame, SharedText):
                parts.append(frame.text)
            else:
                parts.append(frame)
        return RECORD_SEPARATOR.join(parts)

    def interrupt_poll(self) -> None:
        """End a pending long-polling GET with a noop (used when upgrading)."""
        self.queue.append(NOOP)
        self._wake()

    # -- heartbeat -------------------------------------------------------------------------

    def start_heartbeat(self) -> None:
        self._ping_tick = self._server.ping_wheel.add(self._server.ping_interval, self)

    def ping_due(self, tick: int) -> None:
        """Called by the server's ping wheel: send a ping and wait for its pong."""
        if self.closed or tick != self._ping_tick:
            return
        self._ping_tick = None
        self.send(PING)
        self._pong_tick = self._server.pong_wheel.add(self._server.ping_timeout, self)

    def pong_overdue(self, tick: int) -> None:
        """Called by the server's pong wheel once the ping timeout has passed."""
        if not self.closed and tick == self._pong_tick:
            self.close("ping timeout", notify_client=False)

    def on_pong(self) -> None:
        if self._pong_tick is not None:
            self._pong_tick = None
            self.start_heartbeat()

    # -- closing ---------------------------------------------------------------------------

    def close(self, reason: str, *, notify_client: bool = True) -> None:
        """Close the session once: stop timers, tell the layer above, wake the transport.

        ``notify_client`` queues a close packet first, so a client that is still there
        learns the session is over (a pending long-poll then returns ``"1"``).
        """
        if self.closed:
            return
        if notify_client:
            self.queue.append(CLOSE)
        self.closed = True
        self.close_reason = reason
        self._ping_tick = self._pong_tick = None  # the wheels skip this session from now on
        self._server.forget(self)
        self._wake()
        if self._closed_event is not None:
            self._closed_event.set()

    async def wait_closed(self) -> None:
        if self.closed:
            return
        if self._closed_event is None:
            self._closed_event = asyncio.Event()
        await self._closed_event.wait()
