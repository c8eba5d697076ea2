"""AsyncClient against a real ``roomcast serve``: chat, errors, retries and reconnection."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import RunningServer

from roomcast import AsyncClient
from roomcast.client import CallTimedOut, ClientClosed, ConnectionFailed
from roomcast.errors import BadRequest, Forbidden, TooLarge

from .conftest import TIMEOUT
from .proxy import Proxy


async def take(client: AsyncClient, count: int, room: str | None = None) -> list[dict[str, Any]]:
    """The next ``count`` messages ``client`` delivers."""
    return [await asyncio.wait_for(client.receive(room), TIMEOUT) for _ in range(count)]


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


async def joined_and_chatting(ada: AsyncClient, bob: AsyncClient, room: str) -> None:
    """Both join ``room``; Bob's first message reaches Ada."""
    await ada.join(room)
    await bob.join(room)
    await bob.send(room, "before")
    assert texts(await take(ada, 1)) == ["before"]


class Seen:
    """The payloads of the events a client reports, and a way to wait for one."""

    def __init__(self, client: AsyncClient, *events: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        for event in events:
            client.on(event, functools.partial(self._record, event))

    def _record(self, event: str, payload: Any) -> None:
        self.events.append((event, payload))
        self._changed.set()

    def of(self, event: str) -> list[Any]:
        return [payload for name, payload in self.events if name == event]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


async def test_two_clients_chat(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada, AsyncClient(server.url, name="Bob") as bob:
        joined = await ada.join("sales")
        assert joined["ok"] and joined["room"] == "sales" and joined["offset"] == 0
        assert joined["me"]["name"] == "Ada"
        await bob.join("sales")

        sent = await bob.send("sales", "hello Ada")
        assert sent["offset"] == 1 and sent["sender"]["name"] == "Bob" and sent["cid"]
        data = await ada.send("sales", data={"n": 1, "list": [1, 2]})
        assert data["kind"] == "data" and data["data"] == {"n": 1, "list": [1, 2]}

        got = await take(ada, 2)
        assert got[0] == sent  # the same message, as stored
        assert got[1]["data"] == {"n": 1, "list": [1, 2]}
        assert [m["offset"] for m in await take(bob, 2)] == [1, 2]  # the sender gets its own

        page = await ada.history("sales", before=2)
        assert texts(page["messages"]) == ["hello Ada"] and page["more"] is False


async def test_messages_iterator_filters_by_room_and_ends_on_close(server: RunningServer) -> None:
    ada = AsyncClient(server.url, "Ada")
    await ada.connect()
    await ada.join("one")
    await ada.join("two")
    await ada.send("one", "first in one")
    await ada.send("two", "first in two")
    await ada.send("one", "second in one")

    seen: list[str] = []
    async for message in ada.messages("two"):
        seen.append(message["text"])
        break
    assert texts(await take(ada, 2, "one")) == ["first in one", "second in one"]
    assert seen == ["first in two"]

    await ada.close()
    assert [m async for m in ada.messages()] == []
    with pytest.raises(ClientClosed):
        await ada.send("one", "after close")


async def test_a_join_with_since_streams_what_came_after(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada:
        await ada.join("log")
        for i in range(4):
            await ada.send("log", f"m{i}")
        await take(ada, 4)

    async with AsyncClient(server.url, "Bob") as bob:
        ack = await bob.join("log", since=2)
        assert texts(ack["messages"]) == ["m2", "m3"]
        assert texts(await take(bob, 2)) == ["m2", "m3"]
        await bob.send("log", "m4")
        assert texts(await take(bob, 1)) == ["m4"]
        again = await bob.join("log", since=0)  # all of it again: the stream repeats none
        assert len(again["messages"]) == 5
        await bob.send("log", "m5")
        assert texts(await take(bob, 1)) == ["m5"]

    async with AsyncClient(server.url, "Cy") as cy:
        ack = await cy.join("log")  # no since: the history is the ack's, not the stream's
        assert texts(ack["messages"]) == ["m0", "m1", "m2", "m3", "m4", "m5"]
        await cy.send("log", "m6")
        assert texts(await take(cy, 1)) == ["m6"]


async def test_ack_errors_are_raised_with_their_codes(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada:
        with pytest.raises(Forbidden) as forbidden:
            await ada.send("never-joined", "hi")
        assert forbidden.value.code == "forbidden"
        assert "join room 'never-joined' first" in forbidden.value.message

        with pytest.raises(BadRequest):
            await ada.join("bad room!")
        await ada.join("ok")
        with pytest.raises(TooLarge):
            await ada.send("ok", "x" * 5000)
        with pytest.raises(BadRequest):
            await ada.history("ok", limit=0)
        assert (await ada.send("ok", "still works"))["offset"] == 1


async def test_a_repeated_cid_returns_the_same_message(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada:
        await ada.join("once")
        first = await ada.send("once", "only once", cid="cid-1")
        again = await ada.send("once", "only once", cid="cid-1")
        other = await ada.send("once", "another", cid="cid-2")

        assert again == first
        assert (first["offset"], other["offset"]) == (1, 2)
        assert texts((await ada.history("once"))["messages"]) == ["only once", "another"]


async def test_presence_typing_and_read_events_reach_callbacks(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        seen = Seen(ada, "presence", "typing", "read")
        await ada.join("r")
        await bob.join("r")
        await seen.wait_for(lambda: any(len(p["members"]) == 2 for p in seen.of("presence")))

        await bob.typing("r", True)
        await seen.wait_for(lambda: bool(seen.of("typing")))
        assert seen.of("typing")[0]["member"]["name"] == "Bob"
        assert seen.of("typing")[0]["typing"] is True
        sent = await bob.send("r", "hi")
        await bob.read("r", sent["offset"])
        await seen.wait_for(lambda: bool(seen.of("read")))

        read = seen.of("read")[0]
        assert read == {"room": "r", "member": read["member"], "offset": 1}
        assert read["member"]["name"] == "Bob"
        with pytest.raises(ValueError, match="unknown event"):
            ada.on("mesage", print)


async def test_leave_stops_a_rooms_messages(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        await ada.join("a")
        await ada.join("b")
        await bob.join("a")
        await bob.join("b")
        await ada.leave("a")
        await bob.send("a", "not for Ada")
        await bob.send("b", "for Ada")

        assert texts(await take(ada, 1)) == ["for Ada"]
        with pytest.raises(Forbidden):
            await ada.send("a", "left already")


async def test_a_server_restart_loses_and_repeats_nothing(server: RunningServer) -> None:
    async with AsyncClient(server.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        seen = Seen(ada, "reconnect")
        await joined_and_chatting(ada, bob, "keep")

        await asyncio.to_thread(server.restart, same_port=True)
        for i in range(3):
            await bob.send("keep", f"after {i}")  # waits for Bob's reconnection
        await bob.send("keep", "end")

        got = await take(ada, 4)
        assert texts(got) == ["after 0", "after 1", "after 2", "end"]
        assert [m["offset"] for m in got] == [2, 3, 4, 5]
        assert seen.of("reconnect") and ada.connected


async def test_a_dropped_connection_resumes_in_order_without_duplicates(
    server: RunningServer, proxy: Proxy
) -> None:
    async with AsyncClient(proxy.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        seen = Seen(ada, "disconnect")
        await joined_and_chatting(ada, bob, "cut")

        proxy.accepting = False  # Ada cannot come back until Bob has sent
        proxy.cut()
        await seen.wait_for(lambda: bool(seen.of("disconnect")))
        for i in range(1, 6):
            await bob.send("cut", f"m{i}")
        proxy.accepting = True
        await bob.send("cut", "end")

        got = await take(ada, 6)
        assert texts(got) == ["m1", "m2", "m3", "m4", "m5", "end"]
        assert [m["offset"] for m in got] == [2, 3, 4, 5, 6, 7]
        assert await ada.send("cut", "back") == (await take(ada, 1))[0]


async def test_a_silent_server_is_given_up_on_and_a_send_is_retried_once(
    server_factory: Callable[..., RunningServer], proxy_to: Callable[[RunningServer], Proxy]
) -> None:
    # Fast heartbeats, so a frozen connection is detected soon.
    proxy = proxy_to(server_factory("--ping-interval", "0.5", "--ping-timeout", "0.5"))
    async with AsyncClient(proxy.url, "Ada") as ada:
        seen = Seen(ada, "disconnect")
        await ada.join("quiet")
        proxy.freeze()  # the send's frames go nowhere, and so do the server's pings
        sent = await ada.send("quiet", "sent into the void", cid="void-1")

        assert seen.of("disconnect")[0] == "ping timeout"
        assert sent["offset"] == 1
        assert texts(await take(ada, 1)) == ["sent into the void"]
        assert texts((await ada.history("quiet"))["messages"]) == ["sent into the void"]


async def test_a_send_stored_but_not_acked_is_sent_again_and_stored_once(
    server: RunningServer, proxy: Proxy
) -> None:
    async with AsyncClient(proxy.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        await ada.join("retry")
        await bob.join("retry")
        proxy.freeze(both_ways=False)  # the server gets the send; its ack is lost
        before = proxy.connections
        sending = asyncio.create_task(ada.send("retry", "exactly once", cid="retry-1"))
        stored = await take(bob, 1)  # broadcast once stored
        proxy.cut()
        sent = await sending

        assert proxy.connections > before  # it went again, on a new connection
        assert sent == stored[0]
        assert texts((await bob.history("retry"))["messages"]) == ["exactly once"]


async def test_a_long_absence_is_caught_up_past_one_ack(
    server_factory: Callable[..., RunningServer], proxy_to: Callable[[RunningServer], Proxy]
) -> None:
    server = server_factory("--rate", "100000", "--burst", "100000")
    proxy = proxy_to(server)
    async with AsyncClient(proxy.url, "Ada") as ada, AsyncClient(server.url, "Bob") as bob:
        seen = Seen(ada, "disconnect")
        await ada.join("busy")
        await bob.join("busy")
        proxy.accepting = False
        proxy.cut()
        await seen.wait_for(lambda: bool(seen.of("disconnect")))
        total = 520  # over the 500 a join with `since` returns at once
        for i in range(total):
            await bob.send("busy", f"m{i}")
        proxy.accepting = True

        got = await take(ada, total, "busy")
        assert [m["offset"] for m in got] == list(range(1, total + 1))


async def test_a_call_without_an_answer_times_out(server: RunningServer, proxy: Proxy) -> None:
    ada = AsyncClient(proxy.url, "Ada")
    await ada.connect()
    ada.timeout = 1
    try:
        proxy.freeze()  # default heartbeats: the connection still looks alive
        with pytest.raises(CallTimedOut, match="'join'"):
            await ada.join("nowhere")
    finally:
        await ada.close()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host/", "http://", "not a url"])
def test_a_malformed_url_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="server URL"):
        AsyncClient(url, "Ada")


async def test_an_empty_name_is_refused_with_the_servers_reason(server: RunningServer) -> None:
    client = AsyncClient(server.url, "")
    with pytest.raises(BadRequest, match="name must not be empty") as refused:
        await client.connect()
    assert refused.value.code == "bad_request"
    assert not client.connected


async def test_no_server_at_the_address_fails_fast(proxy: Proxy) -> None:
    proxy.accepting = False  # connections are closed on arrival
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        await AsyncClient(proxy.url, "Ada").connect()


async def test_a_site_that_is_not_roomcast_fails(server: RunningServer) -> None:
    with pytest.raises(ConnectionFailed):
        await AsyncClient(server.url + "/nothing-here", "Ada").connect()
