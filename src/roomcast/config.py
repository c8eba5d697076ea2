"""The one settings registry: every setting is declared once, here.

Each field of :class:`Settings` carries its default and help text. The CLI flags
(``--data-dir``), the environment variables (``ROOMCAST_DATA_DIR``) and
``docs/configuration.md`` all come from this list; a test checks the docs. Nothing
else in Roomcast reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from roomcast.adapters.urls import redact
from roomcast.core.limits import parse_networks
from roomcast.core.validation import is_room_name
from roomcast.errors import ConfigError
from roomcast.log_format import LOG_FORMATS

__all__ = [
    "CLIENT_VARIABLES",
    "SETTING_FIELDS",
    "Settings",
    "client_variable",
    "env_var",
    "flag_name",
    "load_settings",
    "parse_value",
    "settings_table",
    "show_default",
    "type_of",
]


_POSTGRES = ("postgresql://", "postgres://")
_REDIS = ("redis://", "rediss://", "unix://")


def _setting(default: Any, help: str, *, minimum: float | None = None) -> Any:
    return field(default=default, metadata={"help": help, "minimum": minimum})


@dataclass(frozen=True)
class Settings:
    """Validated server settings; build with :func:`load_settings`."""

    host: str = _setting("127.0.0.1", "Address to listen on; anything but loopback is public.")
    port: int = _setting(8000, "TCP port to listen on; 0 picks a free one.", minimum=0)
    data_dir: Path = _setting(Path("roomcast-data"), "Folder for the SQLite database.")
    store: str = _setting(
        "sqlite",
        "Where history is kept: 'sqlite' (in data-dir), 'memory', or a PostgreSQL URL "
        "postgresql://user@host/db shared by many processes (make its tables first with "
        "roomcast migrate --store URL); see docs/topics/scaling.md.",
    )
    bus: str = _setting(
        "local",
        "How processes share live messages: 'local' (this process only) or a Redis URL "
        "redis://host:6379/0 that every process of one deployment uses.",
    )
    origins: tuple[str, ...] = _setting(
        (),
        "Comma-separated origins allowed besides the server's own, e.g. "
        "'https://app.example.com'; '*' allows any.",
    )
    log_level: str = _setting("info", "Log level: debug, info, warning or error.")
    log_format: str = _setting(
        "text",
        "Log lines as 'text' for people or 'json', one object per line with the request or "
        "connection id, for log collectors; see docs/topics/observability.md.",
    )
    ping_interval: float = _setting(25.0, "Seconds between Engine.IO pings.", minimum=0.05)
    ping_timeout: float = _setting(20.0, "Seconds to wait for a pong.", minimum=0.05)
    connect_timeout: float = _setting(
        45.0, "Seconds a new connection may take to join a namespace.", minimum=0.05
    )
    max_payload: int = _setting(
        1_000_000, "Largest Engine.IO packet or polling body, in bytes.", minimum=1024
    )
    header_timeout: float = _setting(
        20.0,
        "Seconds a client may take to send an HTTP request's line and headers; slower "
        "ones get 408 and are closed, so half-sent requests cannot hold connections.",
        minimum=0.05,
    )
    send_buffer: int = _setting(
        4_000,
        "Packets queued for one slow connection before it is dropped (it recovers on reconnect).",
        minimum=16,
    )
    send_buffer_bytes: int = _setting(
        4 * 1024 * 1024,
        "Bytes held for one slow connection (queued and in its socket's buffer) before it "
        "is dropped (it recovers on reconnect); keep it above a join's page of the largest "
        "messages (--history-page x --max-data).",
        minimum=1024,
    )
    history_page: int = _setting(50, "Messages returned by a join or history call.", minimum=1)
    max_text: int = _setting(4_000, "Longest message text, in characters.", minimum=1)
    max_data: int = _setting(65_536, "Largest message data, in bytes of JSON.", minimum=1)
    rate: float = _setting(
        20.0, "Events per second one connection may send, sustained.", minimum=0.1
    )
    burst: int = _setting(40, "Events one connection may send in a burst.", minimum=1)
    # Abuse limits (docs/topics/reliability.md#abuse-limits); 0 turns a count limit off.
    max_connections_per_ip: int = _setting(
        200,
        "Connections one client address may hold at once; more get rate_limited. 0: no limit.",
        minimum=0,
    )
    unlimited_ips: tuple[str, ...] = _setting(
        ("127.0.0.0/8", "::1"),
        "Comma-separated addresses or networks the per-address limits skip: this machine "
        "by default, since behind a reverse proxy here every client has its address.",
    )
    max_rooms_per_connection: int = _setting(
        100, "Rooms one connection may be in at once. 0: no limit.", minimum=0
    )
    max_rooms: int = _setting(
        10_000,
        "Rooms with connections in them this process holds; joins that would open another "
        "get rate_limited, open rooms stay usable. 0: no limit.",
        minimum=0,
    )
    api_rate: float = _setting(
        100.0,
        "HTTP API requests per second, sustained, for one API key (requests without a "
        "valid key: for one client address).",
        minimum=0.1,
    )
    api_burst: int = _setting(
        200, "HTTP API requests one key or address may make in a burst.", minimum=1
    )
    recovery_window: float = _setting(
        120.0,
        "Seconds a dropped connection's Socket.IO session is kept for state recovery.",
        minimum=0,
    )
    retention_interval: float = _setting(
        10.0, "Seconds between passes that trim rooms with a retention policy.", minimum=0.05
    )
    signed_links_only: bool = _setting(
        False,
        "Accept only signed links (roomcast link), so nobody can join under another's name.",
    )
    producer: tuple[str, ...] = _setting(
        (),
        "Producers to start with the server, as module:function (comma-separated or the "
        "flag repeated); see docs/howto/live-feeds.md.",
    )
    site: Path | None = _setting(
        None,
        "Folder of an exported prototype (linked HTML pages) to serve at /site/, each page "
        "with a chat button; see docs/howto/usability-lab.md.",
    )
    no_inject: bool = _setting(
        False, "Serve --site pages as they are on disk, without the chat button."
    )
    site_room: str = _setting(
        "lab", "Room of the chat button on --site pages when the tester's link names none."
    )
    workers: int = _setting(
        1,
        "Server processes sharing the port, to use more cores (Linux; e.g. the number of "
        "cores). More than 1 needs --bus redis://... and --store sqlite or a PostgreSQL URL; "
        "see docs/topics/scaling.md.",
        minimum=1,
    )
    heartbeat: float = _setting(
        2.0,
        "Seconds between the heartbeats a process sends on the bus, so that the others "
        "know it is alive; see docs/topics/scaling.md.",
        minimum=0.05,
    )
    node_ttl: float = _setting(
        6.0,
        "Seconds without a heartbeat after which a process counts as dead and its members "
        "go offline on the other processes; more than --heartbeat.",
        minimum=0.1,
    )
    shutdown_grace: float = _setting(
        5.0, "Seconds to finish in-flight work on shutdown.", minimum=0
    )

    def __post_init__(self) -> None:
        for f in SETTING_FIELDS:
            minimum = f.metadata["minimum"]
            value = getattr(self, f.name)
            # NaN passes every comparison and infinity overflows round() and timers.
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{flag_name(f.name)} must be a finite number, not {value}")
            if minimum is not None and value < minimum:
                raise ConfigError(f"{flag_name(f.name)} must be at least {minimum}, not {value}")
        if self.port > 65535:
            raise ConfigError(f"--port must be at most 65535, not {self.port}")
        if self.store not in ("sqlite", "memory") and not self.store.startswith(_POSTGRES):
            raise ConfigError(
                "--store must be 'sqlite', 'memory' or a postgresql:// URL, "
                f"not {redact(self.store)!r}"
            )
        if self.bus != "local" and not self.bus.startswith(_REDIS):
            raise ConfigError(f"--bus must be 'local' or a redis:// URL, not {redact(self.bus)!r}")
        if self.workers > 1:
            self._check_workers()
        if self.node_ttl <= self.heartbeat:
            raise ConfigError(
                f"--node-ttl ({self.node_ttl}) must be more than --heartbeat ({self.heartbeat})"
            )
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError(
                f"--log-level must be debug, info, warning or error, not {self.log_level!r}"
            )
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(f"--log-format must be text or json, not {self.log_format!r}")
        if not is_room_name(self.site_room):
            raise ConfigError(
                f"--site-room: {self.site_room!r} is not a room name (1-64 characters of "
                "A-Z a-z 0-9 . _ -)"
            )
        try:
            parse_networks(self.unlimited_ips)
        except ValueError as error:
            raise ConfigError(f"--unlimited-ips: {error}") from None
        for origin in self.origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ConfigError(f"--origins: {origin!r} is not an origin like https://host:port")

    def _check_workers(self) -> None:
        # Workers share no memory: live messages must cross processes, and history must be
        # one store they all see. A bus relaying between processes would be a second,
        # lesser Redis, and the one machine's setup would then differ from the many.
        if self.bus == "local":
            raise ConfigError(
                f"--workers {self.workers} needs a bus shared by the worker processes: add "
                "--bus redis://127.0.0.1:6379/0 (a Redis server; see docs/topics/scaling.md)"
            )
        if self.store == "memory":
            raise ConfigError(
                f"--workers {self.workers} needs one history for every worker: use --store "
                "sqlite (the default) or a PostgreSQL URL, not 'memory'"
            )
        if not hasattr(socket, "SO_REUSEPORT"):
            raise ConfigError("--workers above 1 needs SO_REUSEPORT, which this system lacks")

    @property
    def is_loopback(self) -> bool:
        """Whether the server listens only on this machine."""
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


SETTING_FIELDS: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(Settings)
_TYPES: dict[str, Any] = get_type_hints(Settings)


def flag_name(name: str) -> str:
    """The CLI flag of a setting: ``data_dir`` -> ``--data-dir``."""
    return "--" + name.replace("_", "-")


def env_var(name: str) -> str:
    """The environment variable of a setting: ``data_dir`` -> ``ROOMCAST_DATA_DIR``."""
    return "ROOMCAST_" + name.upper()


def type_of(name: str) -> Any:
    """The declared type of a setting."""
    return _TYPES[name]


def parse_value(name: str, raw: str) -> Any:
    """Turn the text of a flag or variable into the setting's type; errors name the setting."""
    kind = _TYPES[name]
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(raw)
        if kind == Path | None:
            return Path(raw) if raw.strip() else None  # an empty variable names no folder
        if kind == tuple[str, ...]:
            return tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"{flag_name(name)} / {env_var(name)}: {raw!r} is not a valid "
            f"{getattr(kind, '__name__', kind)}"
        ) from None
    return raw


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults, then ``ROOMCAST_*`` variables, then explicit overrides.

    ``overrides`` holds already-typed values (e.g. parsed CLI flags); ``None`` values are
    ignored so that an unset flag does not hide its environment variable.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in SETTING_FIELDS:
        raw = env.get(env_var(f.name))
        if raw is not None:
            values[f.name] = parse_value(f.name, raw)
    for name, value in (overrides or {}).items():
        if name not in _TYPES:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    return Settings(**values)


def show_default(value: Any) -> str:
    """A default as the CLI help and the docs show it."""
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    if value is None:
        return "(none)"
    return str(value)


def settings_table() -> str:
    """The Markdown table of every setting, as ``docs/configuration.md`` shows it."""
    rows = [
        "| flag | environment variable | default | what it does |",
        "|---|---|---|---|",
    ]
    for f in SETTING_FIELDS:
        shown = show_default(f.default)
        rows.append(
            f"| `{flag_name(f.name)}` | `{env_var(f.name)}` | `{shown}` | {f.metadata['help']} |"
        )
    return "\n".join(rows) + "\n"


DEFAULT_SERVER_URL = "http://127.0.0.1:8000"

# The client commands (publish, room, chat) read these two; the server reads none of them.
CLIENT_VARIABLES: dict[str, tuple[str | None, str]] = {
    "ROOMCAST_URL": (
        DEFAULT_SERVER_URL,
        "The server `roomcast publish`, `room` and `chat` talk to (`--url`).",
    ),
    "ROOMCAST_KEY": (None, "The API key `roomcast publish` and `room` send (`--key`)."),
}


def client_variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A client command's default from the environment: ``ROOMCAST_URL`` or ``ROOMCAST_KEY``."""
    env = os.environ if environ is None else environ
    return env.get(name) or CLIENT_VARIABLES[name][0]
