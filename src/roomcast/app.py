"""Builds the server from settings: ``create_app(settings)`` returns one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from roomcast.adapters.bus import LocalBus, RedisBus
from roomcast.adapters.store import MemoryStore, PostgresStore, SqliteStore
from roomcast.canned import CannedReplies
from roomcast.config import Settings
from roomcast.console_auth import ConsoleAuth
from roomcast.core.errors import ConfigError
from roomcast.core.limits import AddressSessions, RoomLimits, Unlimited, parse_networks
from roomcast.core.policy import parse_policy
from roomcast.core.ratelimit import KeyedBuckets
from roomcast.core.validation import Limits
from roomcast.health import StoreProbe
from roomcast.links import link_secret
from roomcast.metrics import CONTENT_TYPE, Metrics, ServerFigures
from roomcast.ports import Bus, MessageDraft, Sender, Store
from roomcast.producers import Producer, load_producer, run_producer
from roomcast.transport.asgi import Receive, Scope, Send
from roomcast.transport.chat_namespace import ChatNamespace
from roomcast.transport.console_pages import console_routes
from roomcast.transport.engine_server import EngineServer
from roomcast.transport.exports import console_export
from roomcast.transport.http_api import API_PREFIX, api_not_found, create_api
from roomcast.transport.origins import OriginPolicy
from roomcast.transport.pages import page_routes
from roomcast.transport.request_ids import with_request_id
from roomcast.transport.rooms import RoomService
from roomcast.transport.site import SiteFolder, site_routes, widget_tag
from roomcast.transport.socketio_server import SioServer

__all__ = ["RoomcastApp", "create_app", "make_bus", "make_store"]

log = logging.getLogger(__name__)

SOCKET_PATH = "/socket.io/"


def make_store(settings: Settings) -> Store:
    """The store ``--store`` names, not yet opened (the commands use it too)."""
    if settings.store == "memory":
        return MemoryStore()
    if settings.store == "sqlite":
        return SqliteStore(settings.data_dir / "roomcast.db")
    return PostgresStore(settings.store)  # a URL: checked by Settings


def make_bus(settings: Settings) -> Bus:
    """The bus ``--bus`` names, not yet started."""
    if settings.bus == "local":
        return LocalBus()
    return RedisBus(settings.bus)  # a URL: checked by Settings


@dataclass
class RoomcastApp:
    """The ASGI app and the parts a caller may need (tests, the CLI's shutdown hook)."""

    settings: Settings
    store: Store
    bus: Bus
    rooms: RoomService
    sio: SioServer
    chat: ChatNamespace
    engine: EngineServer
    pages: Starlette
    console_auth: ConsoleAuth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            send = with_request_id(scope, send)
        if scope["type"] != "lifespan" and scope["path"].startswith(SOCKET_PATH):
            await self.engine(scope, receive, send)
        else:
            await self.pages(scope, receive, send)

    async def drain(self, grace: float) -> None:
        """Finish the events being handled (up to ``grace`` s), then tell every client to
        reconnect (they resume on the restarted server)."""
        await self.engine.drain(grace)
        self.engine.close_all("server shutting down")


def create_app(settings: Settings, producers: Sequence[Producer] = ()) -> RoomcastApp:
    """Wire store, bus, Socket.IO, chat and pages together; nothing starts until lifespan.

    ``producers`` run besides those that ``settings.producer`` names (the demos use it).
    """
    store = make_store(settings)
    bus = make_bus(settings)
    metrics = Metrics()
    rooms = RoomService(
        store,
        bus,
        retention_interval=settings.retention_interval,
        on_store_write=metrics.store_write.observe,
    )
    producers = [*(load_producer(spec) for spec in settings.producer), *producers]
    limits = Limits(settings.max_text, settings.max_data, settings.history_page)
    unlimited = Unlimited(parse_networks(settings.unlimited_ips))
    http_refusals: Counter[str] = Counter()
    sio = SioServer(
        connect_timeout=settings.connect_timeout,
        recovery_window=settings.recovery_window,
        max_packet=settings.max_payload,
        # No slower than the heartbeat: a pong sent after them would not come in time either.
        attachment_timeout=settings.ping_timeout,
    )
    # One ConsoleAuth for the console's pages and its Socket.IO connections alike: both
    # check passes signed with the same secret and the same password file.
    secret = functools.cache(functools.partial(link_secret, settings.data_dir))
    console_auth = ConsoleAuth(settings.data_dir, secret)
    chat = ChatNamespace(
        sio,
        store,
        bus,
        rooms,
        limits=limits,
        rate=settings.rate,
        burst=settings.burst,
        room_limits=RoomLimits(settings.max_rooms_per_connection, settings.max_rooms),
        link_secret=secret,
        signed_links_only=settings.signed_links_only,
        console_auth=console_auth,
        canned=CannedReplies(settings.data_dir),
        # With a prototype served, the console's links open it (its widget joins as told).
        link_page=None if settings.site is None else "/site/",
        heartbeat=settings.heartbeat,
        node_ttl=settings.node_ttl,
    )
    sio.register("/", chat)
    chat.cluster.on_lag = metrics.bus_lag.observe
    engine = EngineServer(
        sio,
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        max_payload=settings.max_payload,
        send_buffer=settings.send_buffer,
        send_buffer_bytes=settings.send_buffer_bytes,
        origins=OriginPolicy(settings.origins),
        addresses=AddressSessions(settings.max_connections_per_ip, unlimited),
    )

    probe = StoreProbe(store)

    async def health() -> dict[str, object]:
        store_ok = await probe.answers()
        bus_ok = bus.healthy
        return {
            "ok": store_ok and bus_ok,
            "store": "ok" if store_ok else "failing",
            "bus": "ok" if bus_ok else "failing",
            "connections": len(engine.sessions),
            "pid": os.getpid(),  # which worker answered, with --workers
            "node": chat.node,  # this process's id on the bus
            "peers": len(chat.cluster.nodes.alive()),  # other processes heard from
        }

    metrics.watch(
        ServerFigures(
            connections=lambda: len(engine.sessions),
            rooms=sio.room_count,
            deliveries=lambda: sio.deliveries,
            events_in=lambda: chat.events_in,
            published=lambda: rooms.published,
            rejections=lambda: chat.rejected + sio.refused + engine.refused + http_refusals,
        )
    )

    async def show_metrics(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    async def publish_produced(item: Producer, value: object) -> None:
        sender = Sender(f"producer:{item.name}", item.name)
        await rooms.publish(MessageDraft(item.room, "data", rooms.now_ms(), sender, data=value))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await store.open()
            await bus.start()
        except ConfigError as error:  # the traceback that follows adds nothing for operators
            log.error("roomcast: error: %s", error.message)
            await store.close()
            raise
        await rooms.start()
        await chat.start()
        for item in producers:
            if item.policy is not None:
                await rooms.set_policy(
                    item.room, parse_policy(item.policy, rooms.policy(item.room))
                )
        running = [
            asyncio.create_task(run_producer(item, publish_produced), name=f"producer {item.name}")
            for item in producers
        ]
        try:
            yield
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            engine.close_all("server shutting down")
            probe.stop()
            await chat.stop()
            await rooms.stop()
            await bus.stop()
            await store.close()

    api = create_api(
        store,
        rooms,
        limits=limits,
        max_body=settings.max_payload,
        origins=settings.origins,
        rate=KeyedBuckets(settings.api_rate, settings.api_burst),
        unlimited=unlimited,
        refusals=http_refusals,
        reads_need_key=settings.signed_links_only,
    )
    routes = [
        Mount(API_PREFIX, app=api),
        Route("/console/export/{room}", console_export(store, console_auth)),
        *console_routes(console_auth, refusals=http_refusals),
        Route("/metrics", show_metrics),
        *page_routes(health),
    ]
    if settings.site is not None:
        tag = None if settings.no_inject else widget_tag(settings.site_room)
        routes += site_routes(SiteFolder(settings.site), tag)

    async def not_found(request: Request, exc: Exception) -> Response:
        # A path the API's mount cannot take (a newline in it, say) still answers in its shape.
        if request.url.path.startswith(API_PREFIX + "/"):
            return await api_not_found(request, exc)
        return PlainTextResponse("Not Found", status_code=404)

    pages = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})
    return RoomcastApp(settings, store, bus, rooms, sio, chat, engine, pages, console_auth)
