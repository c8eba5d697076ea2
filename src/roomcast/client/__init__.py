"""Python clients of a Roomcast server: the chat contract over asyncio (:class:`AsyncClient`)
and threads (:class:`Client`, the same implementation run in a background thread), and
publishing over the HTTP API (``roomcast.client.publisher``)."""

from roomcast.client.async_client import AsyncClient
from roomcast.client.errors import CallTimedOut, ClientClosed, ConnectionFailed
from roomcast.client.sync_client import Client

__all__ = ["AsyncClient", "CallTimedOut", "Client", "ClientClosed", "ConnectionFailed"]
