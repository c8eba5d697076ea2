"""A TCP proxy in front of a real server, to cut or freeze a client's connection.

It runs its own event loop in a thread, so synchronous and asyncio tests use it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

__all__ = ["Proxy"]


class Proxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_port``; ``url`` is the proxy's base URL."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepting = True
        self.connections = 0  # accepted and forwarded, in all
        self._frozen: set[asyncio.StreamWriter] = set()
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.connections += 1
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if writer not in self._frozen:  # the bytes vanish, as on a dead network
                    writer.write(data)
                    await writer.drain()
        if writer not in self._frozen:  # nor does an end on one side reach the other
            writer.close()

    def cut(self) -> None:
        """Close every forwarded connection now."""

        async def cut() -> None:
            for pair in list(self._pairs):
                for writer in pair:
                    writer.transport.abort()

        self._run(cut())

    def freeze(self, *, both_ways: bool = True) -> None:
        """Stop forwarding on the open connections, without closing them; new ones work.

        With ``both_ways=False`` the client's bytes still reach the server, but nothing
        comes back: a message is stored and its ack lost.
        """
        for client, upstream in list(self._pairs):
            self._frozen.add(client)
            if both_ways:
                self._frozen.add(upstream)

    def close(self) -> None:
        self.accepting = False
        self.cut()
        self._server.close()
        self._run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
