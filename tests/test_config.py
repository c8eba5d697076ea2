"""The settings registry: defaults, ROOMCAST_* variables, overrides, errors naming the flag."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from roomcast.config import (
    SETTING_FIELDS,
    Settings,
    env_var,
    flag_name,
    load_settings,
    parse_value,
    settings_table,
)
from roomcast.errors import ConfigError, RoomcastError

NAMES = [f.name for f in SETTING_FIELDS]
TYPES = {name: kind for name, kind in get_type_hints(Settings).items() if name in NAMES}


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path("roomcast-data")
    assert settings.store == "sqlite"
    assert settings.bus == "local"
    assert settings.origins == ()
    assert settings.log_level == "info"
    assert settings.is_loopback


def test_defaults_have_their_declared_types() -> None:
    settings = Settings()
    for name, kind in TYPES.items():
        value = getattr(settings, name)
        if kind == tuple[str, ...]:
            assert isinstance(value, tuple), name
            assert all(isinstance(item, str) for item in value), name
        else:
            assert type(value) is kind or isinstance(value, kind), name


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_flag_and_env_names() -> None:
    assert flag_name("data_dir") == "--data-dir"
    assert env_var("data_dir") == "ROOMCAST_DATA_DIR"
    assert flag_name("port") == "--port"
    assert env_var("recovery_window") == "ROOMCAST_RECOVERY_WINDOW"


def test_env_vars_are_parsed_to_their_types() -> None:
    settings = load_settings(
        environ={
            "ROOMCAST_HOST": "0.0.0.0",
            "ROOMCAST_PORT": "9001",
            "ROOMCAST_DATA_DIR": "/var/lib/roomcast",
            "ROOMCAST_STORE": "memory",
            "ROOMCAST_ORIGINS": "https://a.example, http://b.example:8080/",
            "ROOMCAST_LOG_LEVEL": "debug",
            "ROOMCAST_PING_INTERVAL": "2.5",
            "ROOMCAST_PING_TIMEOUT": "3",
            "ROOMCAST_MAX_PAYLOAD": "2048",
            "ROOMCAST_RATE": "0.5",
            "ROOMCAST_BURST": "7",
            "ROOMCAST_RECOVERY_WINDOW": "0",
            "ROOMCAST_SHUTDOWN_GRACE": "0.25",
        }
    )
    assert settings.host == "0.0.0.0"
    assert not settings.is_loopback
    assert settings.port == 9001
    assert type(settings.port) is int
    assert settings.data_dir == Path("/var/lib/roomcast")
    assert isinstance(settings.data_dir, Path)
    assert settings.store == "memory"
    assert settings.origins == ("https://a.example", "http://b.example:8080")
    assert settings.log_level == "debug"
    assert settings.ping_interval == 2.5
    assert settings.ping_timeout == 3.0
    assert type(settings.ping_timeout) is float
    assert settings.max_payload == 2048
    assert settings.rate == 0.5
    assert settings.burst == 7
    assert settings.recovery_window == 0.0
    assert settings.shutdown_grace == 0.25


def test_every_setting_has_a_working_env_var() -> None:
    samples: dict[Any, str] = {int: "1234", float: "1234.5", Path: "/tmp/x", bool: "yes"}
    samples[tuple[str, ...]] = "https://x.test"
    samples[Path | None] = "/tmp/prototype"
    for name, kind in TYPES.items():
        if kind is str:
            continue  # host, store and log_level are checked one by one above
        environ = {env_var(name): samples[kind]}
        if name == "workers":  # several workers need a shared bus
            environ["ROOMCAST_BUS"] = "redis://127.0.0.1:6379/0"
        if name == "heartbeat":  # the TTL must stay longer than the heartbeat
            environ[env_var("node_ttl")] = "9999"
        if name == "unlimited_ips":  # addresses, not origins
            environ[env_var(name)] = "10.0.0.0/8"
        settings = load_settings(environ=environ)
        value = getattr(settings, name)
        assert value != getattr(Settings(), name), name
        assert isinstance(value, tuple if kind == tuple[str, ...] else kind), name


def test_site_settings() -> None:
    settings = load_settings(
        environ={
            "ROOMCAST_SITE": "./export",
            "ROOMCAST_NO_INJECT": "1",
            "ROOMCAST_SITE_ROOM": "study-1",
        }
    )
    assert settings.site == Path("export")
    assert settings.no_inject is True
    assert settings.site_room == "study-1"
    defaults = Settings()
    assert (defaults.site, defaults.no_inject, defaults.site_room) == (None, False, "lab")
    assert load_settings(environ={"ROOMCAST_SITE": ""}).site is None


@pytest.mark.parametrize("room", ["", "no room", "..", "x" * 65])
def test_site_room_must_be_a_room_name(room: str) -> None:
    with pytest.raises(ConfigError, match=r"^--site-room"):
        load_settings({"site_room": room}, environ={})


def test_other_env_vars_are_ignored() -> None:
    settings = load_settings(environ={"PORT": "1", "ROOMCAST": "x", "roomcast_port": "2"})
    assert settings.port == 8000


def test_overrides_win_over_env() -> None:
    env = {"ROOMCAST_PORT": "9001", "ROOMCAST_STORE": "memory"}
    settings = load_settings({"port": 9002}, environ=env)
    assert settings.port == 9002
    assert settings.store == "memory"


def test_none_overrides_are_ignored() -> None:
    env = {"ROOMCAST_PORT": "9001"}
    settings = load_settings({"port": None, "store": None, "origins": None}, environ=env)
    assert settings.port == 9001
    assert settings.store == "sqlite"
    assert settings.origins == ()


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="prot"):
        load_settings({"prot": 1}, environ={})


@pytest.mark.parametrize(
    ("name", "raw", "flag"),
    [
        ("port", "notanumber", "--port"),
        ("port", "80.5", "--port"),
        ("port", "", "--port"),
        ("ping_interval", "soon", "--ping-interval"),
        ("max_payload", "1e6", "--max-payload"),
        ("burst", "many", "--burst"),
    ],
)
def test_unparsable_values_name_the_flag_and_variable(name: str, raw: str, flag: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_value(name, raw)
    assert flag in caught.value.message
    assert env_var(name) in caught.value.message
    with pytest.raises(ConfigError, match=flag):
        load_settings(environ={env_var(name): raw})


@pytest.mark.parametrize(
    ("overrides", "flag"),
    [
        ({"port": -1}, "--port"),
        ({"port": 65536}, "--port"),
        ({"ping_interval": float("nan")}, "--ping-interval"),
        ({"shutdown_grace": float("inf")}, "--shutdown-grace"),
        ({"recovery_window": float("nan")}, "--recovery-window"),
        ({"rate": float("inf")}, "--rate"),
        ({"ping_interval": 0.0}, "--ping-interval"),
        ({"ping_timeout": 0.01}, "--ping-timeout"),
        ({"connect_timeout": 0}, "--connect-timeout"),
        ({"max_payload": 1023}, "--max-payload"),
        ({"send_buffer": 15}, "--send-buffer"),
        ({"history_page": 0}, "--history-page"),
        ({"max_text": 0}, "--max-text"),
        ({"max_data": 0}, "--max-data"),
        ({"rate": 0.0}, "--rate"),
        ({"burst": 0}, "--burst"),
        ({"recovery_window": -1.0}, "--recovery-window"),
        ({"shutdown_grace": -0.5}, "--shutdown-grace"),
        ({"store": "nope"}, "--store"),
        ({"store": "SQLite"}, "--store"),
        ({"store": "mysql://root@localhost/db"}, "--store"),
        ({"bus": "redis"}, "--bus"),
        ({"bus": "amqp://guest@localhost"}, "--bus"),
        ({"log_level": "verbose"}, "--log-level"),
        ({"log_level": "INFO"}, "--log-level"),
        ({"origins": ("example.com",)}, "--origins"),
        ({"origins": ("ftp://example.com",)}, "--origins"),
        ({"origins": ("https://ok.example", "ws://nope.example")}, "--origins"),
    ],
)
def test_invalid_values_name_the_flag(overrides: dict[str, Any], flag: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides, environ={})
    assert caught.value.message.startswith(flag)
    assert caught.value.code == "config_error"
    assert isinstance(caught.value, RoomcastError)


@pytest.mark.parametrize(
    ("variable", "raw", "flag"),
    [
        ("ROOMCAST_PORT", "-5", "--port"),
        ("ROOMCAST_PORT", "70000", "--port"),
        ("ROOMCAST_STORE", "nope", "--store"),
        ("ROOMCAST_PING_INTERVAL", "nan", "--ping-interval"),
        ("ROOMCAST_PING_TIMEOUT", "inf", "--ping-timeout"),
        ("ROOMCAST_SHUTDOWN_GRACE", "Infinity", "--shutdown-grace"),
        ("ROOMCAST_ORIGINS", "example.com", "--origins"),
        ("ROOMCAST_LOG_LEVEL", "loud", "--log-level"),
    ],
)
def test_invalid_env_values_name_the_flag(variable: str, raw: str, flag: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: raw})
    assert caught.value.message.startswith(flag)


@pytest.mark.parametrize(
    ("overrides", "name", "value"),
    [
        ({"port": 0}, "port", 0),
        ({"port": 65535}, "port", 65535),
        ({"max_payload": 1024}, "max_payload", 1024),
        ({"send_buffer": 16}, "send_buffer", 16),
        ({"ping_interval": 0.05}, "ping_interval", 0.05),
        ({"rate": 0.1}, "rate", 0.1),
        ({"recovery_window": 0.0}, "recovery_window", 0.0),
        ({"shutdown_grace": 0}, "shutdown_grace", 0),
        ({"log_level": "warning"}, "log_level", "warning"),
        ({"log_level": "error"}, "log_level", "error"),
    ],
)
def test_values_at_their_minimum_are_accepted(
    overrides: dict[str, Any], name: str, value: Any
) -> None:
    assert getattr(load_settings(overrides, environ={}), name) == value


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("", ()),
        (" , ,", ()),
        ("*", ("*",)),
        ("https://app.example.com", ("https://app.example.com",)),
        ("https://app.example.com/", ("https://app.example.com",)),
        (
            " https://a.example:8443 ,http://localhost:3000/,",
            ("https://a.example:8443", "http://localhost:3000"),
        ),
    ],
)
def test_origins_parsing(raw: str, origins: tuple[str, ...]) -> None:
    assert parse_value("origins", raw) == origins
    assert load_settings(environ={"ROOMCAST_ORIGINS": raw}).origins == origins


@pytest.mark.parametrize("raw", ["app.example.com", "https://ok.example,example.org", "//x.test"])
def test_origins_validation(raw: str) -> None:
    with pytest.raises(ConfigError, match="--origins"):
        load_settings(environ={"ROOMCAST_ORIGINS": raw})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert load_settings({"host": host}, environ={}).is_loopback is loopback


def test_settings_table_has_one_row_per_setting() -> None:
    lines = settings_table().splitlines()
    assert lines[0] == "| flag | environment variable | default | what it does |"
    assert lines[1] == "|---|---|---|---|"
    rows = lines[2:]
    assert len(rows) == len(SETTING_FIELDS)
    for row, f in zip(rows, SETTING_FIELDS, strict=True):
        assert row.startswith(f"| `{flag_name(f.name)}` | `{env_var(f.name)}` | ")
        assert f.metadata["help"] in row
    assert "| `--port` | `ROOMCAST_PORT` | `8000` |" in rows[NAMES.index("port")]
    assert "| `--origins` | `ROOMCAST_ORIGINS` | `(none)` |" in rows[NAMES.index("origins")]
    assert settings_table().endswith("\n")


def test_every_setting_has_help_text() -> None:
    for f in SETTING_FIELDS:
        assert f.metadata["help"].strip(), f.name
        assert "|" not in f.metadata["help"], f.name  # would break the Markdown table


@pytest.mark.parametrize(
    ("store", "bus"),
    [
        ("memory", "local"),
        ("postgresql://roomcast:pw@db.internal:5432/roomcast", "redis://cache.internal:6379/0"),
        ("postgres://localhost/roomcast?search_path=chat", "rediss://:pw@cache.internal/1"),
    ],
)
def test_store_and_bus_urls_are_accepted(store: str, bus: str) -> None:
    env = {"ROOMCAST_STORE": store, "ROOMCAST_BUS": bus}
    settings = load_settings(environ=env)
    assert (settings.store, settings.bus) == (store, bus)


def test_a_refused_url_is_shown_without_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"store": "postgresq://ada:hunter2@db/x"}, environ={})
    assert "hunter2" not in caught.value.message
    assert "ada:***@db" in caught.value.message


def test_several_workers_need_a_shared_bus_and_store() -> None:
    with pytest.raises(ConfigError, match=r"--workers 2 needs a bus .* --bus redis://"):
        load_settings({"workers": 2})
    with pytest.raises(ConfigError, match="--store sqlite"):
        load_settings({"workers": 2, "bus": "redis://127.0.0.1:6379/0", "store": "memory"})
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        load_settings({"workers": 0})
    shared = load_settings({"workers": 4, "bus": "redis://127.0.0.1:6379/0"})
    assert (shared.workers, shared.store) == (4, "sqlite")


def test_node_ttl_must_be_longer_than_the_heartbeat() -> None:
    with pytest.raises(ConfigError, match="--node-ttl"):
        load_settings(environ={"ROOMCAST_HEARTBEAT": "3", "ROOMCAST_NODE_TTL": "3"})


def test_unlimited_ips_are_addresses_or_networks() -> None:
    settings = load_settings(environ={"ROOMCAST_UNLIMITED_IPS": "10.0.0.0/8, 192.0.2.7,::1"})
    assert settings.unlimited_ips == ("10.0.0.0/8", "192.0.2.7", "::1")
    assert load_settings(environ={"ROOMCAST_UNLIMITED_IPS": ""}).unlimited_ips == ()
    with pytest.raises(ConfigError, match=r"^--unlimited-ips: 'proxy' is not an IP address"):
        load_settings(environ={"ROOMCAST_UNLIMITED_IPS": "proxy"})
