"""Publish into rooms over the HTTP API, from any Python code: a script, a Flask view, a
Celery task, another thread.

    from roomcast import Publisher
    Publisher("http://127.0.0.1:8000", key=KEY).publish("ticker", {"n": 4.2})

:class:`Publisher` blocks and may be shared between threads; :class:`AsyncPublisher`
is the same for asyncio code. Each publish carries a ``cid``, so a retry after a dropped
connection or a busy server stores the message once.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from types import TracebackType
from typing import Any, Self

import httpx

from roomcast.client.errors import error_from_wire
from roomcast.client.loop_thread import LoopThread
from roomcast.core.errors import RoomcastError, Unavailable

__all__ = ["AsyncPublisher", "Publisher"]

DEFAULT_URL = "http://127.0.0.1:8000"
ATTEMPTS = 4
_UNSET: Any = object()


def _message_body(data: Any, text: str | None, cid: str | None, name: str | None) -> dict[str, Any]:
    if (data is None) == (text is None):
        raise ValueError("publish needs data or text (one of them)")
    body: dict[str, Any] = {"cid": cid or uuid.uuid4().hex}
    if text is not None:
        body["text"] = text
    else:
        body["data"] = data
    if name is not None:
        body["name"] = name
    return body


def _policy_body(client_posts: Any, keep_last: Any, keep_for: Any) -> dict[str, Any]:
    fields = {"client_posts": client_posts, "keep_last": keep_last, "keep_for": keep_for}
    return {name: value for name, value in fields.items() if value is not _UNSET}


def _answer(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON on success; otherwise the error it carries, raised."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("ok") is True:
        return body
    if isinstance(body, dict) and "error" in body:
        raise error_from_wire(body["error"])
    raise Unavailable(f"{response.request.url} answered HTTP {response.status_code}, not Roomcast")


def _backoff(attempt: int) -> float:
    return min(0.25 * (1 << attempt), 2.0)


def _room_path(room: str) -> str:
    # Quoted whole: a name with "/" or "?" reaches the server's room check, not another route.
    return "/rooms/" + urllib.parse.quote(room, safe="")


def _messages_path(room: str) -> str:
    return _room_path(room) + "/messages"


def _client_options(url: str, key: str | None, timeout: float) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return {"base_url": url.rstrip("/") + "/api/v1", "headers": headers, "timeout": timeout}


class AsyncPublisher:
    """Publishes over HTTP from asyncio code; same calls as :class:`Publisher`, awaited."""

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, *, timeout: float = 10.0):
        self._http = httpx.AsyncClient(**_client_options(url, key, timeout))

    async def publish(
        self,
        room: str,
        data: Any = None,
        *,
        text: str | None = None,
        cid: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Store and send ``data`` (any JSON) or ``text`` to the room; returns the message."""
        body = _message_body(data, text, cid, name)
        answer = await self._call("POST", _messages_path(room), body)
        message: dict[str, Any] = answer["message"]
        return message

    async def set_policy(
        self,
        room: str,
        *,
        client_posts: bool = _UNSET,
        keep_last: int | None = _UNSET,
        keep_for: float | str | None = _UNSET,
    ) -> dict[str, Any]:
        """Change the room's policy (fields not given keep their value); returns the room."""
        body = _policy_body(client_posts, keep_last, keep_for)
        return await self._call("PUT", _room_path(room), body)

    async def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return _answer(await self._http.request(method, path, json=body))
            except (httpx.TransportError, Unavailable) as error:
                attempt += 1
                if attempt == ATTEMPTS:
                    raise _unreachable(error) from error
                await asyncio.sleep(_backoff(attempt - 1))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _unreachable(error: Exception) -> RoomcastError:
    if isinstance(error, RoomcastError):
        return error
    where = error.request.url if isinstance(error, httpx.TransportError) else "its URL"
    return Unavailable(f"cannot reach the Roomcast server at {where}: {error}")


class Publisher:
    """Publishes over HTTP, blocking; one instance may be used from many threads.

    It runs an :class:`AsyncPublisher` on an event loop of its own, so a Flask view, a
    Celery task or a notebook cell can call it whatever their own threads and loops are.
    """

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, *, timeout: float = 10.0):
        self._loop = LoopThread("roomcast-publisher")
        self._async = self._loop.run(_make_async(url, key, timeout))

    def publish(
        self,
        room: str,
        data: Any = None,
        *,
        text: str | None = None,
        cid: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Store and send ``data`` (any JSON) or ``text`` to the room; returns the message."""
        return self._loop.run(self._async.publish(room, data, text=text, cid=cid, name=name))

    def set_policy(
        self,
        room: str,
        *,
        client_posts: bool = _UNSET,
        keep_last: int | None = _UNSET,
        keep_for: float | str | None = _UNSET,
    ) -> dict[str, Any]:
        """Change the room's policy (fields not given keep their value); returns the room."""
        change = self._async.set_policy(
            room, client_posts=client_posts, keep_last=keep_last, keep_for=keep_for
        )
        return self._loop.run(change)

    def close(self) -> None:
        self._loop.run(self._async.aclose())
        self._loop.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _make_async(url: str, key: str | None, request_timeout: float) -> AsyncPublisher:
    # Made on the loop that will use it: httpx's async pool belongs to one loop.
    return AsyncPublisher(url, key, timeout=request_timeout)
