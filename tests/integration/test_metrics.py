"""/metrics against a real server: the figures move with what clients do."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

from roomcast.app import RoomcastApp, create_app
from roomcast.config import load_settings


def scrape(server: RunningServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def refusals(server: RunningServer, code: str) -> float:
    """``roomcast_rejections_total`` for ``code`` now."""
    return scrape(server).get(("roomcast_rejections_total", (("code", code),)), 0.0)


def test_metrics_follow_connections_messages_and_refusals(server: RunningServer) -> None:
    before = scrape(server)
    assert before[("roomcast_connections", ())] == 0
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    try:
        for client in (ada, bob):
            client.call("join", {"room": "lobby"})
        ada.send("lobby", "hello")
        bob.wait_for(lambda: bool(bob.messages("lobby")))
        assert ada.call("nonsense", {})["error"]["code"] == "bad_request"
        assert ada.call("send", {"room": "elsewhere", "text": "x"})["error"]["code"] == "forbidden"

        after = scrape(server)
        assert after[("roomcast_connections", ())] == 2
        assert after[("roomcast_rooms", ())] == 1
        assert after[("roomcast_messages_published_total", ())] == 1
        assert after[("roomcast_deliveries_total", ())] >= 2  # the message to both, at least
        assert after[("roomcast_events_received_total", ())] >= 5
        assert after[("roomcast_rejections_total", (("code", "bad_request"),))] == 1
        assert after[("roomcast_rejections_total", (("code", "forbidden"),))] == 1
        assert after[("roomcast_store_write_seconds_count", ())] == 1
    finally:
        ada.close()
        bob.close()


async def test_two_servers_in_one_process_keep_their_own_figures() -> None:
    first = create_app(load_settings({"store": "memory"}))
    second = create_app(load_settings({"store": "memory"}))
    first.rooms.published = 7
    assert b"roomcast_messages_published_total 7.0" in await metrics_of(first)
    assert b"roomcast_messages_published_total 0.0" in await metrics_of(second)


async def metrics_of(app: RoomcastApp) -> bytes:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return (await client.get("/metrics")).content
