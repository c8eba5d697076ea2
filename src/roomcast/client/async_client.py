"""``AsyncClient``: Roomcast's chat contract from asyncio, reconnecting by itself.

After a lost connection it reconnects with jittered, capped back-off and joins every
room again with ``since`` = the highest offset it has delivered, so what was missed
arrives once, in order, with nothing twice — across a server restart too. A ``send``
that was cut off is sent again with the same ``cid``, which the server answers with
the message it already stored.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, TypedDict

from roomcast.client.connection import SERVER_DISCONNECT, Connection, Lost, websocket_url
from roomcast.client.errors import (
    CallTimedOut,
    ClientClosed,
    ConnectionFailed,
    again,
    error_from_wire,
)
from roomcast.client.inbox import Inbox
from roomcast.client.ordering import RoomOrder
from roomcast.core.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    RoomcastError,
    Unavailable,
)

__all__ = ["EVENTS", "AsyncClient", "Callback", "Options"]

log = logging.getLogger(__name__)

#: What :meth:`AsyncClient.on` can watch. ``disconnect`` gets the reason, ``reconnect``
#: the number of attempts it took; the others get the event's payload.
EVENTS = frozenset({"message", "presence", "typing", "read", "disconnect", "reconnect"})

Callback = Callable[[Any], object]


class Options(TypedDict, total=False):
    """The keyword arguments of :class:`AsyncClient`, for wrappers that pass them on."""

    token: str | None
    timeout: float
    reconnect: bool
    reconnect_delay: float
    reconnect_delay_max: float
    max_queue: int


# A refusal on reconnecting that may pass: try again rather than give up.
_PASSING = (Unavailable, RateLimited)
# A room refused on resuming (a token's rooms changed): stop following that room only.
_REFUSED = (BadRequest, Forbidden, NotFound)


class AsyncClient:
    """A chat client for one Roomcast server, as member ``name`` or with a signed ``token``.

    ``timeout`` bounds every call, the waits for a reconnection included. Use it as
    ``async with AsyncClient(url, name="bot") as client: ...``, or call :meth:`connect`
    and :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        name: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        reconnect: bool = True,
        reconnect_delay: float = 0.25,
        reconnect_delay_max: float = 5.0,
        max_queue: int = 10_000,
    ) -> None:
        websocket_url(url)  # a malformed URL fails here, not on first use
        self.url = url
        self.name = name
        self.token = token
        self.timeout = timeout
        self.reconnect = reconnect
        self.reconnect_delay = reconnect_delay
        self.reconnect_delay_max = reconnect_delay_max
        self._max_queue = max_queue
        self._conn: Connection | None = None
        self._ready = asyncio.Event()  # set while a connection is up and its rooms resumed
        self._ended: RoomcastError | None = ClientClosed("not connected: call connect() first")
        self._supervisor: asyncio.Task[None] | None = None
        self._fills: dict[str, asyncio.Task[None]] = {}
        self._joined: dict[str, bool] = {}  # room -> watch
        self._orders: dict[str, RoomOrder] = {}
        self._inbox = Inbox(max_queue)
        self._callbacks: dict[str, list[Callback]] = {event: [] for event in EVENTS}
        self._callback_tasks: set[asyncio.Task[None]] = set()  # held, or they may be collected

    # -- connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a connection is up now (False while reconnecting)."""
        return self._ready.is_set() and self._ended is None

    async def connect(self) -> None:
        """Connect once; raises :class:`ConnectionFailed`, or the server's refusal
        (e.g. :class:`~roomcast.errors.BadRequest` for an empty name)."""
        if self._supervisor is not None and self._ended is None:
            return
        conn = await self._open()
        self._conn = conn
        self._ended = None
        self._joined.clear()  # a client connected again after close() starts afresh
        self._orders.clear()
        if self._inbox.closed:
            self._inbox = Inbox(self._max_queue)
        self._ready.set()
        self._supervisor = asyncio.create_task(self._supervise(conn), name="roomcast-client")

    async def _open(self) -> Connection:
        auth: dict[str, Any] = {"token": self.token} if self.token is not None else {}
        if self.name is not None:
            auth["name"] = self.name
        return await Connection.open(
            self.url, auth, within=self.timeout, on_event=self._dispatch, on_close=self._lost
        )

    def _lost(self, reason: str) -> None:
        # At once, before the calls on that connection learn it: they must wait for the next.
        if self._ended is None:
            self._ready.clear()

    async def close(self) -> None:
        """Leave the server; pending calls raise :class:`ClientClosed`, iterators end."""
        self._end(ClientClosed("the client is closed"))
        tasks = [*self._fills.values()]
        if self._supervisor is not None:
            tasks.append(self._supervisor)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._conn is not None:
            await self._conn.close()

    def _end(self, error: RoomcastError) -> None:
        if self._ended is not None:
            return
        self._ended = error
        self._ready.set()  # wakes waiting calls, which then see _ended
        self._inbox.close(error)

    async def __aenter__(self) -> AsyncClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _supervise(self, conn: Connection) -> None:
        try:
            await self._keep_connected(conn)
        except Exception:  # a task boundary: a bug here must end the client, not hang it
            log.exception("the connection supervisor of %s failed", self.url)
            self._end(ClientClosed("the client failed; see its log"))

    async def _keep_connected(self, conn: Connection) -> None:
        """Wait for the connection to end, then reconnect and resume, until closed."""
        while True:
            reason = await conn.wait_closed()
            await conn.close()  # its reader has finished: nothing of it is left running
            if self._ended is not None:
                return
            if reason == SERVER_DISCONNECT:
                self._end(ClientClosed("the server ended this client's session"))
                return
            self._notify("disconnect", reason)
            if not self.reconnect:
                self._end(ClientClosed(f"connection lost: {reason}"))
                return
            attempts = 0
            while True:
                attempts += 1
                delay = min(self.reconnect_delay_max, self.reconnect_delay * 2 ** (attempts - 1))
                # Jitter: clients cut off together do not all come back at the same instant.
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                try:
                    conn = await self._open()
                except ConnectionFailed as error:
                    log.info("reconnecting to %s: %s", self.url, error)
                    continue
                except _PASSING as error:
                    log.info("reconnecting to %s: %s", self.url, error)
                    continue
                except RoomcastError as error:
                    self._end(error)
                    return
                try:
                    async with asyncio.timeout(self.timeout):
                        await self._resume(conn)
                except (Lost, TimeoutError, *_PASSING) as error:
                    log.info("resuming on %s failed (%s); reconnecting", self.url, error)
                    await conn.close()
                    continue
                except BaseException:  # closed meanwhile (cancelled): do not leave it open
                    await conn.close()
                    raise
                break
            self._conn = conn
            self._ready.set()
            self._notify("reconnect", attempts)

    async def _resume(self, conn: Connection) -> None:
        """Join every joined room again from where its messages stopped."""
        for room in list(self._joined):
            await self._catch_up(room, conn)

    async def _catch_up(self, room: str, conn: Connection | None = None) -> None:
        """Join ``room`` with ``since`` until nothing is missing (acks hold 500 at most).

        On ``conn`` while resuming; else through :meth:`_call`, as a gap's fill.
        """
        while room in self._joined:
            order = self._orders[room]
            since = order.delivered
            assert since is not None
            payload = {"room": room, "since": since, "watch": self._joined[room]}
            try:
                if conn is None:
                    ack = await self._call("join", payload)
                else:
                    ack = await self._call_on(conn, "join", payload)
            except _REFUSED as error:
                log.warning("room %r could not be joined again: %s", room, error)
                self._joined.pop(room, None)
                self._orders.pop(room, None)
                return
            except RateLimited:
                # Resuming many rooms at once can outrun the server's burst: slow down
                # on this connection rather than reconnect and start over.
                await asyncio.sleep(1)
                continue
            self._deliver(room, order, ack.get("messages") or [])
            if not ack.get("more") and (not order.has_gap or order.delivered == since):
                return  # complete; or a gap the store cannot fill, and asking again won't

    async def _fill_task(self, room: str) -> None:
        try:
            await self._catch_up(room)
        except RoomcastError as error:  # a task boundary; the next gap or reconnect tries again
            log.warning("could not fetch the missing messages of %r: %s", room, error)

    # -- calls -----------------------------------------------------------------------------

    async def _call(self, event: str, payload: Any) -> dict[str, Any]:
        """Emit with an ack, again on each new connection until answered or timed out."""
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    if self._ended is not None:
                        raise again(self._ended)
                    if not self._ready.is_set():
                        await self._ready.wait()
                        continue
                    assert self._conn is not None
                    try:
                        return await self._call_on(self._conn, event, payload)
                    except Lost:
                        # Ask again on the next connection (the loss cleared _ready): every
                        # call of the contract is idempotent, `send` through its cid.
                        continue
        except TimeoutError:
            raise CallTimedOut(f"no answer to {event!r} within {self.timeout:g} s") from None

    async def _call_on(self, conn: Connection, event: str, payload: Any) -> dict[str, Any]:
        args = await conn.call(event, payload)
        ack = args[0] if args else None
        if not isinstance(ack, dict):
            raise RoomcastError(f"malformed ack to {event!r}: {args!r}")
        if ack.get("ok") is not True:
            raise error_from_wire(ack.get("error"))
        return ack

    async def join(
        self, room: str, since: int | None = None, watch: bool = False
    ) -> dict[str, Any]:
        """Join ``room``; returns the ack: ``room, offset, messages, more, members, me, read``.

        Without ``since`` the ack's ``messages`` are the latest page of history and
        :meth:`messages` yields what comes after them; with ``since``, :meth:`messages`
        yields everything after that offset. ``watch`` joins without appearing in presence.
        """
        payload: dict[str, Any] = {"room": room, "watch": watch}
        if since is not None:
            payload["since"] = since
        order = self._orders.get(room)
        if order is None:
            order = self._orders[room] = RoomOrder(since)
        try:
            ack = await self._call("join", payload)
        except BaseException:
            if room not in self._joined:
                self._orders.pop(room, None)
            raise
        self._joined[room] = watch
        messages = ack.get("messages") or []
        if order.started:
            self._deliver(room, order, messages)
        else:
            # The history page is the ack's to return; the stream begins after it.
            self._deliver(room, order, [], start=messages[-1]["offset"] if messages else 0)
        if ack.get("more") and since is not None:
            self._fill(room)
        return ack

    async def leave(self, room: str) -> None:
        """Leave ``room``; its messages stop coming."""
        self._joined.pop(room, None)
        self._orders.pop(room, None)
        await self._call("leave", {"room": room})

    async def send(
        self,
        room: str,
        text: str | None = None,
        data: Any = None,
        cid: str | None = None,
    ) -> dict[str, Any]:
        """Send ``text`` and/or JSON ``data``; returns the stored message (with its offset).

        Sent again with the same ``cid`` across reconnections until acked, for up to the
        client's ``timeout`` (then :class:`CallTimedOut`); the server stores it once.
        """
        payload: dict[str, Any] = {"room": room, "cid": cid or uuid.uuid4().hex}
        if text is not None:
            payload["text"] = text
        if data is not None:
            payload["data"] = data
        ack = await self._call("send", payload)
        message: dict[str, Any] = ack["message"]
        return message

    async def history(
        self, room: str, before: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """Older messages: the ack ``room, messages, more``, oldest first, before ``before``."""
        payload: dict[str, Any] = {"room": room}
        if before is not None:
            payload["before"] = before
        if limit is not None:
            payload["limit"] = limit
        return await self._call("history", payload)

    async def typing(self, room: str, typing: bool) -> None:
        """Tell ``room`` whether this member is typing."""
        await self._call("typing", {"room": room, "typing": typing})

    async def read(self, room: str, offset: int) -> None:
        """Tell ``room`` this member has read up to ``offset``."""
        await self._call("read", {"room": room, "offset": offset})

    # -- receiving -------------------------------------------------------------------------

    async def receive(self, room: str | None = None) -> dict[str, Any]:
        """The next message (of ``room`` if given), waiting for it.

        Raises :class:`ClientClosed` once the client is closed and nothing is left.
        """
        return await self._inbox.get(room)

    async def messages(self, room: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every message of the joined rooms (or of ``room``), once each, in offset order.

        Buffered from the moment of connecting. Ends when the client is closed.
        """
        while True:
            try:
                message = await self._inbox.get(room)
            except ClientClosed:
                return
            yield message

    def on(self, event: str, callback: Callback) -> None:
        """Call ``callback(payload)`` on each ``event`` of :data:`EVENTS`.

        A callback may be a coroutine function. It runs in the client's event loop.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {sorted(EVENTS)}")
        self._callbacks[event].append(callback)

    def _notify(self, event: str, payload: Any) -> None:
        for callback in self._callbacks[event]:
            try:
                result = callback(payload)
            except Exception:  # a task boundary: the user's callback must not stop the client
                log.exception("callback for %r failed", event)
                continue
            if inspect.isawaitable(result):
                task = asyncio.create_task(self._await_callback(event, result))
                self._callback_tasks.add(task)
                task.add_done_callback(self._callback_tasks.discard)

    async def _await_callback(self, event: str, result: Awaitable[object]) -> None:
        try:
            await result
        except Exception:  # a task boundary, as in _notify
            log.exception("callback for %r failed", event)

    def _dispatch(self, event: str, args: list[Any]) -> None:
        """An event from the server; broadcasts carry a recovery offset last, unused here."""
        payload = args[0] if args else None
        if event == "message":
            if isinstance(payload, dict):
                room = payload.get("room")
                order = self._orders.get(room) if isinstance(room, str) else None
                if order is not None:
                    self._deliver(str(room), order, [payload])
        elif event in EVENTS:
            self._notify(event, payload)

    def _deliver(
        self,
        room: str,
        order: RoomOrder,
        messages: list[dict[str, Any]],
        start: int | None = None,
    ) -> None:
        ready = order.start(start) if start is not None else []
        for message in messages:
            ready.extend(order.accept(message))
        for message in ready:
            self._inbox.put(message)
            self._notify("message", message)
        if order.has_gap:
            self._fill(room)

    def _fill(self, room: str) -> None:
        """Fetch what is missing in ``room`` (a gap, or a resume of over 500) in a task."""
        if room in self._fills or not self._ready.is_set():
            return  # already filling; or reconnecting, which resumes every room anyway
        task = asyncio.create_task(self._fill_task(room), name=f"roomcast-fill-{room}")
        self._fills[room] = task
        task.add_done_callback(lambda _: self._fills.pop(room, None))
