"""The HTTP API against a real server: keys, publishing, history, policies, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

from roomcast.transport.openapi import openapi_document

ServerFactory = Callable[..., RunningServer]


def roomcast_cli(server: RunningServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roomcast", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "ROOMCAST_URL": server.url},
    )


def make_key(server: RunningServer, name: str = "cron") -> str:
    made = roomcast_cli(server, "key", "create", name, "--data-dir", str(server.data_dir))
    assert made.returncode == 0, made.stderr
    assert "shown only this once" in made.stderr
    return made.stdout.strip()


def check_schema(body: Any, schema_name: str) -> None:
    """Validate an answer against the OpenAPI document's schema of that name."""
    document = openapi_document()
    schema = {"components": document["components"], "$ref": f"#/components/schemas/{schema_name}"}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def check_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    check_schema(body, "Error")
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


@pytest.fixture
def api(server: RunningServer) -> httpx.Client:
    with httpx.Client(base_url=server.url + "/api/v1", timeout=10) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def key(server: RunningServer) -> str:
    return make_key(server)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_writes_need_a_key_and_say_how_to_make_one(
    server: RunningServer, api: httpx.Client
) -> None:
    message = check_error(api.post("/rooms/ticker/messages", json={"data": 1}), 401, "unauthorized")
    assert "roomcast key create" in message
    bad = api.post("/rooms/ticker/messages", json={"data": 1}, headers=auth("rc_nope"))
    assert "unknown or revoked" in check_error(bad, 401, "unauthorized")
    basic = api.put("/rooms/ticker", json={"keep_last": 5}, headers={"Authorization": "Basic x"})
    assert "Bearer" in check_error(basic, 401, "unauthorized")
    assert basic.headers["www-authenticate"] == "Bearer"

    key = make_key(server, "temp")
    assert (
        api.post("/rooms/ticker/messages", json={"data": 1}, headers=auth(key)).status_code == 201
    )
    revoked = roomcast_cli(server, "key", "revoke", "temp", "--data-dir", str(server.data_dir))
    assert revoked.returncode == 0, revoked.stderr
    again = api.post("/rooms/ticker/messages", json={"data": 2}, headers=auth(key))
    check_error(again, 401, "unauthorized")


def test_publish_over_http_reaches_members_and_history(
    server: RunningServer, api: httpx.Client, key: str
) -> None:
    viewer = ChatClient(server.url, "Viewer", ["websocket"])
    try:
        assert viewer.call("join", {"room": "ticker"})["ok"]
        # curl -d sends a form content type: the body is JSON whatever the header says.
        published = api.post(
            "/rooms/ticker/messages",
            content=b'{"data": {"n": 4.2}}',
            headers={**auth(key), "content-type": "application/x-www-form-urlencoded"},
        )
        assert published.status_code == 201, published.text
        body = published.json()
        check_schema(body, "Published")
        message = body["message"]
        assert (message["offset"], message["kind"], message["data"]) == (1, "data", {"n": 4.2})
        assert message["sender"] == {"id": "key:cron", "name": "cron"}
        viewer.wait_for(lambda: len(viewer.messages("ticker")) == 1)
        assert viewer.messages("ticker")[0] == message

        text = api.post(
            "/rooms/ticker/messages",
            json={"text": "deploy done", "name": "CI", "cid": "c-1"},
            headers=auth(key),
        ).json()["message"]
        retry = api.post(
            "/rooms/ticker/messages",
            json={"text": "deploy done", "name": "CI", "cid": "c-1"},
            headers=auth(key),
        ).json()["message"]
        assert retry == text and text["offset"] == 2 and text["sender"]["name"] == "CI"
    finally:
        viewer.close()

    page = api.get("/rooms/ticker/messages").json()
    check_schema(page, "MessagePage")
    assert [m["offset"] for m in page["messages"]] == [1, 2] and page["more"] is False
    since = api.get("/rooms/ticker/messages", params={"since": 1}).json()
    assert [m["offset"] for m in since["messages"]] == [2]
    newest = api.get("/rooms/ticker/messages", params={"limit": 1}).json()
    assert [m["offset"] for m in newest["messages"]] == [2] and newest["more"] is True
    rooms = api.get("/rooms").json()
    check_schema(rooms, "RoomList")
    assert [(r["room"], r["last_offset"]) for r in rooms["rooms"]] == [("ticker", 2)]
    room = api.get("/rooms/ticker").json()
    check_schema(room, "Room")
    assert room["policy"] == {"client_posts": True, "keep_last": None, "keep_for": None}


def test_too_large_bodies_and_data_get_413(server_factory: ServerFactory) -> None:
    server = server_factory("--max-payload", "4096", "--max-data", "1024")
    key = make_key(server)
    with httpx.Client(base_url=server.url + "/api/v1", headers=auth(key), timeout=10) as api:
        body = api.post("/rooms/big/messages", content=b'{"text": "' + b"x" * 5000 + b'"}')
        assert "4096 bytes" in check_error(body, 413, "too_large")
        data = api.post("/rooms/big/messages", json={"data": "y" * 2000})
        assert "1024 bytes" in check_error(data, 413, "too_large")
        assert api.get("/rooms/big/messages").status_code == 404  # nothing was stored


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/rooms/r/messages", b"not json", 400, "bad_request"),
        ("POST", "/rooms/r/messages", b"\xff\xfe", 400, "bad_request"),
        ("POST", "/rooms/r/messages", b"[1, 2]", 400, "bad_request"),
        ("POST", "/rooms/r/messages", b'{"dta": 1}', 400, "bad_request"),
        ("POST", "/rooms/r/messages", b"{}", 400, "bad_request"),
        ("POST", "/rooms/r/messages", b'{"text": "   "}', 400, "bad_request"),
        ("POST", "/rooms/r/messages", b'{"data": 1, "name": ""}', 400, "bad_request"),
        ("POST", "/rooms/r/messages", b"[" * 100_000, 400, "bad_request"),
        ("POST", "/rooms/bad%20name/messages", b'{"data": 1}', 400, "bad_request"),
        ("PUT", "/rooms/r", b'{"keep_last": 0}', 400, "bad_request"),
        ("PUT", "/rooms/r", b'{"keep_for": "soon"}', 400, "bad_request"),
        ("PUT", "/rooms/r", b'{"client_posts": "no"}', 400, "bad_request"),
        ("PUT", "/rooms/r", b'{"colour": "red"}', 400, "bad_request"),
        ("GET", "/rooms/nowhere", None, 404, "not_found"),
        ("GET", "/rooms/nowhere/messages", None, 404, "not_found"),
        ("GET", "/rooms/r/messages?limit=0", None, 400, "bad_request"),
        ("GET", "/rooms/r/messages?since=-1", None, 400, "bad_request"),
        ("GET", "/rooms/r/messages?before=x", None, 400, "bad_request"),
        ("GET", "/no/such/route", None, 404, "not_found"),
        ("DELETE", "/rooms/r", None, 405, "bad_request"),
    ],
)
def test_bad_requests_get_clear_errors_and_the_server_lives_on(
    server: RunningServer,
    api: httpx.Client,
    key: str,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    assert api.post("/rooms/r/messages", json={"data": 0}, headers=auth(key)).status_code == 201

    check_error(api.request(method, path, content=body, headers=auth(key)), status, code)

    assert httpx.get(server.url + "/healthz").json()["ok"] is True
    assert [m["data"] for m in api.get("/rooms/r/messages").json()["messages"]] == [0]


def test_retention_trims_old_messages_but_keeps_the_last_value(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("--retention-interval", "0.1")
    key = make_key(server)
    with httpx.Client(base_url=server.url + "/api/v1", headers=auth(key), timeout=10) as api:
        for n in range(10):
            assert api.post("/rooms/feed/messages", json={"data": n}).status_code == 201
        room = api.put("/rooms/feed", json={"keep_last": 3})
        assert room.status_code == 200 and room.json()["policy"]["keep_last"] == 3
        # Applied at once when set, then on every pass.
        assert [m["offset"] for m in api.get("/rooms/feed/messages").json()["messages"]] == [
            8,
            9,
            10,
        ]
        for n in range(10, 15):
            api.post("/rooms/feed/messages", json={"data": n})
        deadline = time.monotonic() + 10
        while len(api.get("/rooms/feed/messages").json()["messages"]) > 3:
            assert time.monotonic() < deadline, "retention did not run"
            time.sleep(0.05)
        assert [m["data"] for m in api.get("/rooms/feed/messages").json()["messages"]] == [
            12,
            13,
            14,
        ]
        # Keep for a moment only: everything but the newest goes; the last value stays.
        api.put("/rooms/feed", json={"keep_last": None, "keep_for": "1ms"})
        time.sleep(0.3)
        page = api.get("/rooms/feed/messages").json()["messages"]
        assert [m["data"] for m in page] == [14]
        assert api.post("/rooms/feed/messages", json={"data": 15}).json()["message"]["offset"] == 16

    server.restart()  # policies are stored
    with httpx.Client(base_url=server.url + "/api/v1", timeout=10) as api:
        assert api.get("/rooms/feed").json()["policy"]["keep_for"] == 0.001


def test_a_feed_refuses_member_posts_but_delivers_publishes(
    server: RunningServer, api: httpx.Client, key: str
) -> None:
    assert api.put("/rooms/news", json={"client_posts": False}, headers=auth(key)).json()["ok"]
    member = ChatClient(server.url, "Ada", ["websocket"])
    try:
        assert member.call("join", {"room": "news"})["ok"]
        refused = member.send("news", "can I post?")
        assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
        api.post("/rooms/news/messages", json={"text": "extra!"}, headers=auth(key))
        member.wait_for(lambda: [m["text"] for m in member.messages("news")] == ["extra!"])
    finally:
        member.close()


def test_openapi_document_matches_the_routes(server: RunningServer, api: httpx.Client) -> None:
    from roomcast.app import create_app
    from roomcast.config import load_settings
    from roomcast.transport.http_api import API_PREFIX

    served = api.get("/openapi.json").json()
    assert served == json.loads(json.dumps(openapi_document()))
    jsonschema.Draft202012Validator.check_schema(
        {"components": served["components"], "$ref": "#/components/schemas/Message"}
    )

    app = create_app(load_settings({"store": "memory"}, environ={}))
    mount = next(r for r in app.pages.routes if getattr(r, "path", "") == API_PREFIX)
    routes = {
        (route.path, method.lower())
        for route in mount.routes  # type: ignore[attr-defined]
        for method in route.methods - {"HEAD"}
    }
    documented = {
        (path, method)
        for path, operations in served["paths"].items()
        for method in operations
        if method != "parameters"
    }
    assert routes == documented
    for path, operations in served["paths"].items():
        named = {p["name"] for p in operations.get("parameters", []) if p["in"] == "path"}
        assert named == {part[1:-1] for part in path.split("/") if part.startswith("{")}


def test_cors_lets_an_allowed_origin_read(server_factory: ServerFactory) -> None:
    server = server_factory("--origins", "http://app.example:5000")
    allowed = httpx.get(server.url + "/api/v1/rooms", headers={"Origin": "http://app.example:5000"})
    assert allowed.headers["access-control-allow-origin"] == "http://app.example:5000"
    other = httpx.get(server.url + "/api/v1/rooms", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
