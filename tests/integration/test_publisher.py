"""Publishing from Python (Publisher, AsyncPublisher) and the shell (roomcast publish, room)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_http_api import make_key

from roomcast import AsyncPublisher, Publisher
from roomcast.errors import BadRequest, Forbidden, NotFound, Unauthorized, Unavailable


@pytest.fixture
def key(server: RunningServer) -> str:
    return make_key(server)


@pytest.fixture
def viewer(server: RunningServer) -> ChatClient:
    client = ChatClient(server.url, "Viewer", ["websocket"])
    assert client.call("join", {"room": "ticker"})["ok"]
    yield client  # type: ignore[misc]
    client.close()


def test_publisher_from_plain_threads_reaches_members(
    server: RunningServer, key: str, viewer: ChatClient
) -> None:
    published: list[dict[str, object]] = []
    with Publisher(server.url, key) as publisher:
        # One publisher shared by threads, as a Flask app or a Celery worker would.
        threads = [
            threading.Thread(
                target=lambda n=n: published.append(publisher.publish("ticker", {"n": n}))
            )
            for n in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        text = publisher.publish("ticker", text="hello from a script", name="Script")

    assert sorted(m["offset"] for m in published) == [1, 2, 3, 4, 5]  # type: ignore[type-var]
    assert text["offset"] == 6 and text["sender"] == {"id": "key:cron", "name": "Script"}
    viewer.wait_for(lambda: len(viewer.messages("ticker")) == 6)
    received = viewer.messages("ticker")
    assert [m["offset"] for m in received] == [1, 2, 3, 4, 5, 6]
    assert sorted(m["data"]["n"] for m in received[:5]) == [0, 1, 2, 3, 4]


def test_a_retry_with_the_same_cid_stores_once(server: RunningServer, key: str) -> None:
    with Publisher(server.url, key) as publisher:
        first = publisher.publish("ticker", 1, cid="tick-1")
        again = publisher.publish("ticker", 1, cid="tick-1")
    assert first == again


def test_publisher_raises_the_servers_errors(server: RunningServer, key: str) -> None:
    with Publisher(server.url, "rc_wrong") as publisher, pytest.raises(Unauthorized):
        publisher.publish("ticker", 1)
    with Publisher(server.url, key) as publisher:
        with pytest.raises(BadRequest, match="room must be"):
            publisher.publish("no such room", 1)
        with pytest.raises(NotFound):  # a slash never reaches the room check: no such route
            publisher.publish("a/b", 1)
        with pytest.raises(ValueError, match="data or text"):
            publisher.publish("ticker")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with (
        Publisher(f"http://127.0.0.1:{port}", key, timeout=1) as publisher,
        pytest.raises(Unavailable, match=f"127.0.0.1:{port}"),
    ):
        publisher.publish("ticker", 1)


async def test_async_publisher_publishes_and_sets_policies(server: RunningServer, key: str) -> None:
    async with AsyncPublisher(server.url, key) as publisher:
        room = await publisher.set_policy("ticker", client_posts=False, keep_for="1h")
        assert room["policy"] == {"client_posts": False, "keep_last": None, "keep_for": 3600.0}
        message = await publisher.publish("ticker", {"n": 4.2})
        assert message["data"] == {"n": 4.2}

    member = ChatClient(server.url, "Ada", ["websocket"])
    try:
        assert member.call("join", {"room": "ticker"})["messages"][-1]["data"] == {"n": 4.2}
        assert member.send("ticker", "hi")["error"]["code"] == Forbidden.code
    finally:
        member.close()


def cli(server: RunningServer, *args: str, key: str | None = None, stdin: str = ""):  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "ROOMCAST_URL": server.url}
    if key:
        env["ROOMCAST_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "roomcast", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
        env=env,
    )


def test_roomcast_publish_from_the_shell(
    server: RunningServer, key: str, viewer: ChatClient
) -> None:
    done = cli(server, "publish", "ticker", '{"n": 4.2}', key=key)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"] == {"n": 4.2}
    piped = cli(server, "publish", "ticker", "-", key=key, stdin="[1, 2]")
    assert json.loads(piped.stdout)["data"] == [1, 2]
    text = cli(server, "publish", "ticker", "--text", "backup finished", "--name", "cron", key=key)
    assert json.loads(text.stdout)["text"] == "backup finished"
    viewer.wait_for(lambda: len(viewer.messages("ticker")) == 3)

    not_json = cli(server, "publish", "ticker", "hello", key=key)
    assert not_json.returncode == 1 and "--text 'hello'" in not_json.stderr
    no_key = cli(server, "publish", "ticker", "1")
    assert no_key.returncode == 1 and "roomcast key create" in no_key.stderr
    both = cli(server, "publish", "ticker", "1", "--text", "x", key=key)
    assert both.returncode == 1 and "one of them" in both.stderr


def test_roomcast_room_sets_only_what_is_given(server: RunningServer, key: str) -> None:
    feed = cli(server, "room", "ticker", "--feed", "--keep-last", "100", key=key)
    assert feed.returncode == 0, feed.stderr
    assert json.loads(feed.stdout) == {
        "room": "ticker",
        "client_posts": False,
        "keep_last": 100,
        "keep_for": None,
    }
    kept = cli(server, "room", "ticker", "--keep-for", "2h", key=key)
    assert json.loads(kept.stdout) == {
        "room": "ticker",
        "client_posts": False,
        "keep_last": 100,
        "keep_for": 7200.0,
    }
    cleared = cli(server, "room", "ticker", "--open", "--keep-last", "all", key=key)
    assert json.loads(cleared.stdout)["keep_last"] is None
    assert json.loads(cleared.stdout)["client_posts"] is True
    nothing = cli(server, "room", "ticker", key=key)
    assert nothing.returncode == 2 and "--feed" in nothing.stderr
    bad = cli(server, "room", "ticker", "--keep-for", "soon", key=key)
    assert bad.returncode == 1 and "keep_for" in bad.stderr


def test_roomcast_key_list_and_revoke(server: RunningServer, key: str) -> None:
    data_dir = str(server.data_dir)
    listed = cli(server, "key", "list", "--data-dir", data_dir)
    assert listed.stdout.startswith("cron\tmade ")
    assert key not in listed.stdout + listed.stderr
    missing = cli(server, "key", "revoke", "nobody", "--data-dir", data_dir)
    assert missing.returncode == 1 and "no API key named 'nobody'" in missing.stderr
    no_name = cli(server, "key", "create", "--data-dir", data_dir)
    assert no_name.returncode == 2 and "NAME" in no_name.stderr
    bad_name = cli(server, "key", "create", "a b", "--data-dir", data_dir)
    assert bad_name.returncode == 1 and "1-64 characters" in bad_name.stderr
