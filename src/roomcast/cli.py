"""The ``roomcast`` command. Flags of ``serve`` come from the settings registry."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from roomcast import __version__
from roomcast.app import create_app
from roomcast.commands.admin import run_set_password
from roomcast.commands.banner import serve_banner
from roomcast.commands.export import run_export
from roomcast.commands.keys import run_key_command
from roomcast.commands.link import run_link
from roomcast.commands.migrate import run_migrate
from roomcast.commands.publish import run_publish, run_room
from roomcast.config import (
    SETTING_FIELDS,
    Settings,
    client_variable,
    env_var,
    flag_name,
    load_settings,
    parse_value,
    show_default,
    type_of,
)
from roomcast.console_auth import ConsoleAuth
from roomcast.core.errors import ConfigError, RoomcastError
from roomcast.core.transcript import DELIMITERS
from roomcast.demos.cloud import cloud_producer
from roomcast.demos.numbers import numbers_producer
from roomcast.links import link_secret
from roomcast.log_format import configure_logging
from roomcast.producers import Producer
from roomcast.serving import bind, run_server
from roomcast.timeline import EXPORT_FORMATS
from roomcast.workers import Supervisor

__all__ = ["main"]

DESCRIPTION = """\
Roomcast: live chat rooms and live feeds over Socket.IO, on SQLite, in one command.

  roomcast serve                       chat at http://127.0.0.1:8000, history in ./roomcast-data
  roomcast serve --port 9000           another port
  roomcast serve --help                every setting of the server
  roomcast key create cron             an API key for publishing (shown once)
  roomcast publish ticker '{"n": 4.2}' publish JSON data into a room (needs ROOMCAST_KEY)
  roomcast room ticker --feed          only publishers post in the room
  roomcast link --room study-P07 --name P07 --expires 2h   a personal link, with a QR code
  roomcast chat sales --name Ada       chat in a room from the terminal
  roomcast admin set-password          the facilitator console's password (at /console)
"""


def _add_settings(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    for field in SETTING_FIELDS:
        if names is None or field.name in names:
            # A list setting may be given as one comma-separated flag or as several flags.
            listed = type_of(field.name) == tuple[str, ...]
            # A yes/no setting is a plain switch too: --signed-links-only means true.
            switch: dict[str, Any] = (
                {"nargs": "?", "const": "true"} if type_of(field.name) is bool else {}
            )
            parser.add_argument(
                flag_name(field.name),
                dest=field.name,
                metavar=field.name.upper(),
                action="append" if listed else "store",
                **switch,
                help=f"{field.metadata['help']} [env {env_var(field.name)}; default: "
                f"{show_default(field.default)}]",
            )


def _add_client_options(parser: argparse.ArgumentParser, *, key: bool = True) -> None:
    parser.add_argument(
        "--url", default=client_variable("ROOMCAST_URL"), help="the server [env ROOMCAST_URL]"
    )
    if key:
        parser.add_argument(
            "--key",
            default=client_variable("ROOMCAST_KEY"),
            help="API key from `roomcast key create` [env ROOMCAST_KEY]",
        )


def _optional_int(raw: str) -> int | None:
    return None if raw in ("all", "none") else int(raw)


def _optional_text(raw: str) -> str | None:
    return None if raw in ("forever", "none") else raw


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
    _add_settings(serve)

    key = commands.add_parser(
        "key",
        help="make, list or revoke API keys for the HTTP API",
        description="API keys for the HTTP write API (publish, room policies). Stored hashed "
        "in the data folder; a new key is shown only once.",
    )
    key.add_argument("action", choices=["create", "list", "revoke"])
    key.add_argument("name", nargs="?", help="the key's name, e.g. cron (create, revoke)")
    _add_settings(key, ("data_dir", "store"))

    migrate = commands.add_parser(
        "migrate",
        help="create or upgrade the history store's schema (PostgreSQL needs it first)",
        description="Create or upgrade the schema of the store --store names: a PostgreSQL "
        "database (servers refuse one that is missing or older; run this before starting "
        "them) or the SQLite file in --data-dir (which servers also upgrade themselves).",
    )
    _add_settings(migrate, ("data_dir", "store"))

    publish = commands.add_parser(
        "publish",
        help="publish a message into a room of a running server",
        description="Publish into a room of a running server over its HTTP API, e.g. "
        "roomcast publish ticker '{\"n\": 4.2}'. Prints the stored message.",
    )
    publish.add_argument("room")
    publish.add_argument("data", nargs="?", help="JSON data, or - to read it from stdin")
    publish.add_argument("--text", help="publish this text instead of data")
    publish.add_argument("--name", help="sender name to show (default: the key's name)")
    _add_client_options(publish)

    link = commands.add_parser(
        "link",
        help="print a personal signed link (and its QR code) that joins a room as a name",
        description="A link that opens a room as a given name with no typing, signed with "
        "the secret in --data-dir. With --signed-links-only the server accepts only these.",
    )
    link.add_argument("--room", required=True)
    link.add_argument("--name", required=True)
    link.add_argument("--expires", metavar="TIME", help="e.g. 90m, 2h, 7d (default: never)")
    link.add_argument(
        "--page",
        metavar="PATH",
        help="open this page of the server instead of the chat page, e.g. /site/ or "
        "/site/start.html (a prototype served with --site)",
    )
    link.add_argument("--no-qr", dest="qr", action="store_false", help="print no QR code")
    _add_client_options(link, key=False)
    _add_settings(link, ("data_dir",))

    admin = commands.add_parser(
        "admin",
        help="administer the server: the facilitator console's password",
        description="set-password: the password of the facilitator console at /console, "
        "asked twice. Setting it signs every facilitator out, also on a running server.",
    )
    admin.add_argument("action", choices=["set-password"])
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin (for scripts)",
    )
    _add_settings(admin, ("data_dir",))
    export = commands.add_parser(
        "export",
        help="write a room's session record (messages, joins, steps, notes) as CSV, JSON or MD",
        description="Write ROOM's timeline from the data folder, e.g. roomcast export study-P07 "
        "--format csv --delimiter ';' --output P07.csv. CSV is UTF-8 with a byte-order mark.",
    )
    export.add_argument("room", metavar="ROOM")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    export.add_argument("--delimiter", choices=DELIMITERS, default=",", help="between CSV fields")
    export.add_argument("--output", "-o", type=Path, help="write to this file (default: stdout)")
    _add_settings(export, ("data_dir", "store"))

    demo = commands.add_parser(
        "demo",
        help="serve a live-page demo: numbers or cloud",
        description="Serve Roomcast with a demo producer and its page: 'numbers' publishes a "
        "random number every second, 'cloud' a job queue's state now and then.",
    )
    demo.add_argument("name", choices=["numbers", "cloud"])
    demo.add_argument(
        "--every", type=float, default=1.0, metavar="SECONDS", help="numbers: seconds between"
    )
    _add_settings(demo)

    room = commands.add_parser(
        "room",
        help="change a room's policy: feed or chat, retention",
        description="Change a room's policy on a running server; what is not given stays.",
    )
    room.add_argument("room")
    # Options not given stay out of the namespace (SUPPRESS): only what is given changes.
    posts = room.add_mutually_exclusive_group()
    posts.add_argument(
        "--feed",
        dest="client_posts",
        action="store_false",
        default=argparse.SUPPRESS,
        help="only publishers post (members who send get 'forbidden')",
    )
    posts.add_argument(
        "--open",
        dest="client_posts",
        action="store_true",
        default=argparse.SUPPRESS,
        help="members may post (a chat)",
    )
    room.add_argument(
        "--keep-last",
        type=_optional_int,
        default=argparse.SUPPRESS,
        metavar="N|all",
        help="keep the newest N messages",
    )
    room.add_argument(
        "--keep-for",
        type=_optional_text,
        default=argparse.SUPPRESS,
        metavar="TIME|forever",
        help="e.g. 90s, 15m, 2h, 7d",
    )
    _add_client_options(room)
    from roomcast.client.terminal import add_chat_parser

    add_chat_parser(commands)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        field.name: parse_value(field.name, ",".join(raw) if isinstance(raw, list) else raw)
        for field in SETTING_FIELDS
        if (raw := getattr(args, field.name, None)) is not None
    }
    return load_settings(overrides)


def _room_policy(args: argparse.Namespace) -> dict[str, object]:
    # --keep-last all gives None, which clears the limit; options not given are absent.
    fields = ("client_posts", "keep_last", "keep_for")
    return {name: getattr(args, name) for name in fields if hasattr(args, name)}


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "chat":
        return int(args.run(args))
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "publish":
        return run_publish(args.url, args.key, args.room, args.data, args.text, args.name)
    if args.command == "room":
        policy = _room_policy(args)
        if not policy:
            parser.error("room: give --feed, --open, --keep-last or --keep-for")
        return run_room(args.url, args.key, args.room, policy)
    try:
        settings = _settings(args)
        if args.command == "link":
            return run_link(
                settings, args.url, args.room, args.name, args.expires, args.qr, args.page
            )
        if args.command == "admin":
            return run_set_password(settings, args.password_stdin)
        if args.command == "migrate":
            return run_migrate(settings)
        if args.command == "export":
            return run_export(settings, args.room, args.format, args.delimiter, args.output)
        if args.command == "demo":
            return _demo(args.name, args.every, settings)
        if args.command == "key":
            if args.action != "list" and not args.name:
                parser.error(f"key {args.action}: give the key's NAME")
            return run_key_command(args.action, args.name, settings)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 2
    except RoomcastError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 1
    return serve(settings)


def _demo(name: str, every: float, settings: Settings) -> int:
    if not every > 0:
        raise ConfigError(f"--every must be more than 0 seconds, not {every}")
    made = numbers_producer(every) if name == "numbers" else cloud_producer()
    return serve(settings, [made], [("Demo", f"/demo/{name}")])


def serve(
    settings: Settings,
    producers: Sequence[Producer] = (),
    pages: Sequence[tuple[str, str]] = (),
) -> int:
    """Run the server until interrupted; returns the process exit code.

    ``producers`` start with it besides ``--producer``'s; ``pages`` are ``(label, path)``
    lines added to the banner. With ``--workers`` above 1, worker processes serve and this
    one supervises them.
    """
    configure_logging(settings.log_level, settings.log_format)
    if settings.workers > 1:
        return _serve_workers(settings, producers, pages)
    try:
        app = create_app(settings, producers)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 2
    try:
        sock = bind(settings)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 1
    try:
        # The first start makes the console's password; the banner shows it this once.
        console_password = app.console_auth.ensure_password()
    except ConfigError as error:
        sock.close()
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    print(serve_banner(settings, port, pages, console_password=console_password), flush=True)
    return run_server(settings, app, sock)


def _serve_workers(
    settings: Settings, producers: Sequence[Producer], pages: Sequence[tuple[str, str]]
) -> int:
    """Start ``--workers`` processes on one port, print the banner once all serve, supervise."""
    try:
        # Held, not listening, so that port 0 names one port for every worker and nothing
        # else takes it while a worker restarts.
        reserved = bind(settings, reuse_port=True, listen=False)
    except ConfigError as error:
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 1
    try:
        # Made once here, before the workers could race to make them.
        link_secret(settings.data_dir)
        console_password = ConsoleAuth(
            settings.data_dir, lambda: link_secret(settings.data_dir)
        ).ensure_password()
    except ConfigError as error:
        reserved.close()
        print(f"roomcast: error: {error.message}", file=sys.stderr)
        return 2
    port = reserved.getsockname()[1]

    def work(index: int, started: Callable[[], None]) -> int:
        reserved.close()
        # Producers run in the first worker only: in each they would publish N times.
        mine = settings if index == 0 else dataclasses.replace(settings, producer=())
        try:
            app = create_app(mine, producers if index == 0 else ())
            sock = bind(settings, port=port, reuse_port=True)
        except ConfigError as error:
            print(f"roomcast: error: {error.message}", file=sys.stderr)
            return 2
        return run_server(mine, app, sock, on_started=started)

    supervisor = Supervisor(settings.workers, work, grace=settings.shutdown_grace)
    failed = supervisor.start()
    if failed:
        reserved.close()
        return failed
    banner = serve_banner(
        settings, port, pages, console_password=console_password, workers=supervisor.pids
    )
    print(banner, flush=True)
    try:
        return supervisor.run()
    finally:
        reserved.close()


if __name__ == "__main__":
    sys.exit(main())
