"""Client, the thread-run wrapper, as scripts and threads use it, against a real server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.conftest import RunningServer

from roomcast import Client
from roomcast.client import ClientClosed, ConnectionFailed
from roomcast.errors import BadRequest, Forbidden

from .conftest import TIMEOUT
from .proxy import Proxy


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


def take(client: Client, count: int, room: str | None = None) -> list[dict[str, Any]]:
    return [client.receive(room, timeout=TIMEOUT) for _ in range(count)]


def client_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "roomcast-client"]


def test_two_clients_chat_and_errors_raise(server: RunningServer) -> None:
    with Client(server.url, "Ada") as ada, Client(server.url, name="Bob") as bob:
        assert ada.join("sales")["me"]["name"] == "Ada"
        bob.join("sales")
        sent = bob.send("sales", "hello")
        ada.send("sales", data={"answer": 42})

        got = take(ada, 2)
        assert got[0] == sent
        assert got[1]["data"] == {"answer": 42}
        assert ada.history("sales")["messages"] == got
        with pytest.raises(Forbidden, match="join room 'elsewhere' first"):
            ada.send("elsewhere", "hi")
        with pytest.raises(TimeoutError):
            ada.receive("sales", timeout=0.05)  # nothing more came: the wait ends
    assert client_threads() == []


def test_messages_iterator_stops_after_a_quiet_timeout(server: RunningServer) -> None:
    with Client(server.url, "Ada") as ada:
        ada.join("quiet")
        for i in range(3):
            ada.send("quiet", f"m{i}")

        assert texts(list(ada.messages("quiet", timeout=1))) == ["m0", "m1", "m2"]


def test_many_threads_share_one_client(server: RunningServer) -> None:
    with Client(server.url, "Ada") as ada:
        ada.join("busy")
        sent: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        def work(n: int) -> None:
            try:
                for i in range(5):
                    sent.append(ada.send("busy", f"t{n}-{i}"))
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)

        assert errors == []
        assert sorted(m["offset"] for m in sent) == list(range(1, 21))
        assert [m["offset"] for m in take(ada, 20)] == list(range(1, 21))


def test_a_client_made_and_used_in_a_plain_thread(server: RunningServer) -> None:
    result: list[dict[str, Any]] = []

    def script() -> None:
        with Client(server.url, "Worker") as worker:
            worker.join("jobs")
            result.append(worker.send("jobs", "done"))

    with Client(server.url, "Boss") as boss:
        boss.join("jobs")
        thread = threading.Thread(target=script)
        thread.start()
        thread.join(TIMEOUT)

        assert not thread.is_alive()
        assert [m["text"] for m in result] == ["done"]
        assert take(boss, 1) == result


def test_a_blocking_call_from_a_callback_is_refused(server: RunningServer) -> None:
    refused: list[BaseException] = []
    answered = threading.Event()
    with Client(server.url, "Ada") as ada:

        def on_message(message: dict[str, Any]) -> None:
            try:
                ada.send("r", "reply")  # would wait on the thread that must answer it
            except RuntimeError as error:
                refused.append(error)
            answered.set()

        ada.on("message", on_message)
        ada.join("r")
        ada.send("r", "hi")
        assert answered.wait(TIMEOUT)

    assert "cannot be called from its callbacks" in str(refused[0])


def test_reconnects_after_a_restart_and_a_cut(server: RunningServer, proxy: Proxy) -> None:
    with Client(proxy.url, "Ada") as ada, Client(server.url, "Bob") as bob:
        ada.join("keep")
        bob.join("keep")
        bob.send("keep", "m0")
        assert texts(take(ada, 1)) == ["m0"]

        proxy.cut()
        bob.send("keep", "m1")
        server.restart(same_port=True)
        bob.send("keep", "m2")

        assert texts(take(ada, 2)) == ["m1", "m2"]
        assert ada.send("keep", "back")["offset"] == 4
        assert texts(take(ada, 1)) == ["back"]


def test_a_refused_connect_raises_and_leaves_no_thread(server: RunningServer) -> None:
    with pytest.raises(BadRequest, match="name must not be empty"), Client(server.url, ""):
        pass
    with pytest.raises(ConnectionFailed), Client(server.url + "/elsewhere", "Ada"):
        pass
    assert client_threads() == []


def test_a_closed_client_refuses_calls(server: RunningServer) -> None:
    ada = Client(server.url, "Ada")
    ada.connect()
    ada.close()
    ada.close()  # again: nothing happens

    with pytest.raises(ClientClosed):
        ada.join("r")
    assert list(ada.messages(timeout=TIMEOUT)) == []
