"""The PostgreSQL schema of :class:`~roomcast.adapters.store.postgres.PostgresStore`, versioned.

Unlike SQLite (one file, one server, upgraded when opened), a PostgreSQL database is shared
by many server processes that may run different releases during a rolling upgrade, so its
schema changes only when an operator says so: ``roomcast migrate --store URL``. A server
checks the version on start and refuses one it does not know, or one older than it needs.

Version 1 (``roomcast_schema.version``; tables live in the first schema of ``search_path``)::

    roomcast_schema(version)                           one row
    rooms(name PK, last_offset, last_ts, activity)     activity: from the sequence room_activity
    messages(room, "offset", id, ts, kind, sender_id, sender_name, text BYTEA, data JSON, cid)
        PK (room, "offset"); UNIQUE (room, coalesce(sender_id, ''), cid) WHERE cid IS NOT NULL
    read_positions(room, member_id, "offset")          PK (room, member_id)
    room_policies(room PK, client_posts, keep_last, keep_for)
    api_keys(name PK, digest UNIQUE, created_ts)
    timeline(seq identity PK, room, ts, kind, actor_id, actor_name, data JSON)  INDEX (room, seq)

``text`` is the UTF-8 bytes of the message text: PostgreSQL's ``text`` cannot hold U+0000,
which a message may contain. ``data`` is ``json``, not ``jsonb``, for the same reason
(``jsonb`` refuses ``\\u0000``) and because ``json`` keeps the exact text that was stored.
"""

from __future__ import annotations

from typing import Any

from roomcast.adapters.urls import redact
from roomcast.errors import ConfigError

__all__ = ["SCHEMA_VERSION", "check_schema", "migrate", "migrate_schema"]

SCHEMA_VERSION = 1

# What each version adds to the one before; a new database runs them all in order.
_UPGRADES: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE SEQUENCE room_activity",
        """CREATE TABLE rooms (
            name TEXT PRIMARY KEY,
            last_offset BIGINT NOT NULL,
            last_ts BIGINT NOT NULL,
            activity BIGINT NOT NULL
        )""",
        "CREATE INDEX rooms_by_activity ON rooms (activity)",
        """CREATE TABLE messages (
            room TEXT NOT NULL REFERENCES rooms (name),
            "offset" BIGINT NOT NULL,
            id TEXT NOT NULL,
            ts BIGINT NOT NULL,
            kind TEXT NOT NULL,
            sender_id TEXT,
            sender_name TEXT,
            text BYTEA,
            data JSON,
            cid TEXT,
            PRIMARY KEY (room, "offset")
        )""",
        """CREATE UNIQUE INDEX messages_by_cid
            ON messages (room, coalesce(sender_id, ''), cid) WHERE cid IS NOT NULL""",
        """CREATE TABLE read_positions (
            room TEXT NOT NULL,
            member_id TEXT NOT NULL,
            "offset" BIGINT NOT NULL,
            PRIMARY KEY (room, member_id)
        )""",
        """CREATE TABLE room_policies (
            room TEXT PRIMARY KEY,
            client_posts BOOLEAN NOT NULL,
            keep_last BIGINT,
            keep_for DOUBLE PRECISION
        )""",
        """CREATE TABLE api_keys (
            name TEXT PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            created_ts BIGINT NOT NULL
        )""",
        """CREATE TABLE timeline (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            room TEXT NOT NULL,
            ts BIGINT NOT NULL,
            kind TEXT NOT NULL,
            actor_id TEXT,
            actor_name TEXT,
            data JSON
        )""",
        "CREATE INDEX timeline_by_room ON timeline (room, seq)",
    ),
}

# Any constant will do: it only keeps two `roomcast migrate` runs from interleaving.
_MIGRATE_LOCK = 0x726F6F6D63617374  # "roomcast"


async def _version(conn: Any) -> int | None:
    """The schema version, or None when the database has no Roomcast schema."""
    if await conn.fetchval("SELECT to_regclass('roomcast_schema')") is None:
        return None
    version = await conn.fetchval("SELECT max(version) FROM roomcast_schema")
    return None if version is None else int(version)


def _newer(version: int, dsn: str) -> ConfigError:
    return ConfigError(
        f"--store: the PostgreSQL database {redact(dsn)} has schema version {version}, newer "
        f"than this Roomcast understands ({SCHEMA_VERSION}); upgrade Roomcast"
    )


async def check_schema(conn: Any, dsn: str) -> None:
    """Refuse a database whose schema is missing, older or newer than this release's."""
    version = await _version(conn)
    command = f"roomcast migrate --store '{redact(dsn)}'"
    if version is None:
        raise ConfigError(
            f"--store: the PostgreSQL database {redact(dsn)} has no Roomcast schema; "
            f"create it with: {command}"
        )
    if version < SCHEMA_VERSION:
        raise ConfigError(
            f"--store: the PostgreSQL database {redact(dsn)} has schema version {version}, "
            f"this Roomcast needs {SCHEMA_VERSION}; upgrade it with: {command}"
        )
    if version > SCHEMA_VERSION:
        raise _newer(version, dsn)


async def migrate_schema(conn: Any, dsn: str) -> tuple[int, int]:
    """Create or upgrade the schema in one transaction; returns (version before, after).

    ``conn`` is an ``asyncpg.Connection``. Two runs at once are serialized by an advisory
    lock, so the second finds the work done.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATE_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS roomcast_schema (version INTEGER NOT NULL)")
        before = await _version(conn) or 0
        if before > SCHEMA_VERSION:
            raise _newer(before, dsn)
        for upgrade in range(before + 1, SCHEMA_VERSION + 1):
            for statement in _UPGRADES[upgrade]:
                await conn.execute(statement)
        if before < SCHEMA_VERSION:
            await conn.execute("DELETE FROM roomcast_schema")
            await conn.execute("INSERT INTO roomcast_schema VALUES ($1)", SCHEMA_VERSION)
    return before, SCHEMA_VERSION


async def migrate(dsn: str) -> tuple[int, int]:
    """Connect to ``dsn`` and create or upgrade its schema; returns (version before, after).

    Raises ``ConfigError`` when the database cannot be reached or is newer than this release.
    """
    import asyncpg  # here, not at the top: the checks above need no driver

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise ConfigError(f"--store: cannot open PostgreSQL at {redact(dsn)}: {exc}") from None
    try:
        return await migrate_schema(conn, dsn)
    finally:
        await conn.close()
