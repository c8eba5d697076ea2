"""The ``roomcast`` command. Flags of ``serve`` come from the settings registry."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys

import uvicorn

from roomcast import __version__
from roomcast.app import SOCKET_PATH, RoomcastApp, create_app
from roomcast.config import (
    SETTING_FIELDS,
    Settings,
    env_var,
    flag_name,
    load_settings,
    parse_value,
    show_default,
)
from roomcast.core.errors import ConfigError
from roomcast.gc_tuning import tune_gc_for_connections
from roomcast.transport.fast_upgrade import engine_http_protocol
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

__all__ = ["main"]

DESCRIPTION = """\
Roomcast: live chat rooms and live feeds over Socket.IO, on SQLite, in one command.

  roomcast serve                 chat at http://127.0.0.1:8000, history in ./roomcast-data
  roomcast serve --port 9000     another port
  roomcast serve --help          every setting of the server
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roomcast",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"roomcast {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="start the server",
        description="Start the server. Each setting can also come from its ROOMCAST_* variable.",
    )
    for field in SETTING_FIELDS:
        serve.add_argument(
            flag_name(field.name),
            dest=field.name,
            metavar=field.name.upper(),
            help=f"{field.metadata['help']} [env {env_var(field.name)}; default: "
            f"{show_default(field.default)}]",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        overrides = {
            field.name: parse_value(field.name, raw)
            for field in SETTING_FIELDS
            if (raw := getattr(args, field.name)) is not None
        }
        settings = load_settings(overrides)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 2
    return serve(settings)


class _Server(uvicorn.Server):
    """uvicorn's server, telling Roomcast's clients to reconnect before it drains."""

    roomcast: RoomcastApp | None = None

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.roomcast is not None:
            self.roomcast.begin_shutdown()
        await super().shutdown(sockets)


def _bind(settings: Settings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port} ({error.strerror}); "
            "choose another --port or stop what is using it"
        ) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _banner(settings: Settings, port: int) -> str:
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    where = (
        f"SQLite in {settings.data_dir}"
        if settings.store == "sqlite"
        else "memory (no history kept)"
    )
    lines = [
        f"Roomcast {__version__} is serving, history in {where}",
        f"  Chat:     {base}/",
        f"  A room:   {base}/r/lobby?name=Ada",
        f"  Health:   {base}/healthz",
    ]
    if not settings.is_loopback:
        lines.append(
            f"  WARNING: listening on {host}: rooms are open to anyone who can reach this "
            "machine on that network."
        )
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def serve(settings: Settings) -> int:
    """Run the server until interrupted; returns the process exit code."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        sock = _bind(settings)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 1
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        ws_max_size=settings.max_payload,
        ws_ping_interval=None,  # Engine.IO has its own heartbeat
        # A broadcast is framed once for every subscriber; per-connection compression
        # would redo it for each (socket.io turns it off by default too).
        ws_per_message_deflate=False,
        ws=FramedWebSocketProtocol,
        # New Engine.IO WebSocket sessions skip ASGI: less memory and time per connection.
        http=engine_http_protocol({SOCKET_PATH: app.engine}),
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace)),
        server_header=False,
        access_log=False,
        lifespan="on",
    )
    server = _Server(config)
    server.roomcast = app
    tune_gc_for_connections()
    print(_banner(settings, sock.getsockname()[1]), flush=True)
    # After its graceful shutdown uvicorn re-raises the signal that stopped it: Ctrl+C would
    # end in a KeyboardInterrupt traceback and SIGTERM in death by signal. Both end here.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # uvicorn's own runner: its loop factory picks uvloop, which also sets TCP_NODELAY
        # on every connection (plain asyncio does not, and Nagle then delays small frames).
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
