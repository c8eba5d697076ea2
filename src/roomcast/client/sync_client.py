"""``Client``: :class:`AsyncClient` for scripts, notebooks and threads.

One implementation: a background thread runs an event loop with an ``AsyncClient`` in
it, and each method hands its coroutine to that loop and waits for the result. Any
thread may call it, at the same time as others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar, Unpack

from roomcast.client.async_client import AsyncClient, Callback, Options
from roomcast.client.errors import ClientClosed
from roomcast.client.loop_thread import LoopThread

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """A chat client that blocks until each call is answered; see :class:`AsyncClient`,
    whose keyword arguments (``token``, ``timeout``, ``reconnect``…) it takes.

    Callbacks given to :meth:`on` run in the client's own thread. Use it as
    ``with Client(url, name="bot") as client: ...``, or call :meth:`connect` and
    :meth:`close`.
    """

    def __init__(self, url: str, name: str | None = None, **options: Unpack[Options]) -> None:
        self._client = AsyncClient(url, name, **options)
        self._closed = False
        self._loop = LoopThread("roomcast-client")

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise ClientClosed("the client is closed")
        return self._loop.run(coroutine)

    @property
    def url(self) -> str:
        return self._client.url

    @property
    def connected(self) -> bool:
        """Whether a connection is up now (False while reconnecting)."""
        return self._client.connected

    def connect(self) -> None:
        """Connect; raises as :meth:`AsyncClient.connect` does."""
        self._run(self._client.connect())

    def close(self) -> None:
        """Close the client and stop its thread; calling it again does nothing."""
        if self._closed:
            return
        try:
            self._run(self._client.close())
        finally:
            self._closed = True
            self._loop.stop()

    def __enter__(self) -> Client:
        try:
            self.connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def join(self, room: str, since: int | None = None, watch: bool = False) -> dict[str, Any]:
        """Join ``room``; see :meth:`AsyncClient.join`."""
        return self._run(self._client.join(room, since, watch))

    def leave(self, room: str) -> None:
        self._run(self._client.leave(room))

    def send(
        self,
        room: str,
        text: str | None = None,
        data: Any = None,
        cid: str | None = None,
    ) -> dict[str, Any]:
        """Send and return the stored message; see :meth:`AsyncClient.send`."""
        return self._run(self._client.send(room, text, data, cid))

    def history(
        self, room: str, before: int | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        return self._run(self._client.history(room, before, limit))

    def typing(self, room: str, typing: bool) -> None:
        self._run(self._client.typing(room, typing))

    def read(self, room: str, offset: int) -> None:
        self._run(self._client.read(room, offset))

    def receive(self, room: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """The next message (of ``room`` if given); raises ``TimeoutError`` after ``timeout``."""
        return self._run(self._receive(room, timeout))

    async def _receive(self, room: str | None, wait: float | None) -> dict[str, Any]:
        # The timeout runs inside the loop: a message is either taken and returned, or left.
        return await asyncio.wait_for(self._client.receive(room), wait)

    def messages(
        self, room: str | None = None, timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """Messages as they come, as :meth:`AsyncClient.messages`; stops after ``timeout``
        seconds without one, or when the client is closed."""
        while True:
            try:
                yield self.receive(room, timeout)
            except (TimeoutError, ClientClosed):
                return

    def on(self, event: str, callback: Callback) -> None:
        """Call ``callback(payload)`` on ``event``, in the client's thread."""
        self._client.on(event, callback)
