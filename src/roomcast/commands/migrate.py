"""``roomcast migrate``: create or upgrade the schema of the store ``--store`` names.

A PostgreSQL database is shared by many server processes, which may run different releases
during an upgrade, so its schema changes only when this command runs; a server refuses to
start on a schema that is missing, older than it needs or newer than it knows. An SQLite
file belongs to one machine and upgrades itself when a server opens it; this command does
the same without starting a server (before a backup, say).
"""

from __future__ import annotations

import asyncio

from roomcast.adapters.store.postgres_schema import migrate
from roomcast.adapters.store.sqlite import SqliteStore, schema_version
from roomcast.adapters.urls import redact
from roomcast.config import Settings
from roomcast.core.errors import ConfigError

__all__ = ["run_migrate"]


def _report(where: str, before: int, after: int) -> str:
    if before == after:
        return f"{where}: already at version {after}; nothing to do"
    return f"{where}: schema version {before} -> {after}"


async def _migrate_sqlite(settings: Settings) -> tuple[int, int]:
    path = settings.data_dir / "roomcast.db"
    before = schema_version(path)
    store = SqliteStore(path)
    await store.open()  # creates or upgrades; refuses a newer file
    await store.close()
    return before, schema_version(path)


def run_migrate(settings: Settings) -> int:
    """Migrate ``--store``'s schema and print what changed; returns the exit code."""
    if settings.store == "memory":
        raise ConfigError("--store memory keeps nothing on disk: there is no schema to migrate")
    if settings.store == "sqlite":
        before, after = asyncio.run(_migrate_sqlite(settings))
        print(_report(f"SQLite {settings.data_dir / 'roomcast.db'}", before, after))
    else:
        before, after = asyncio.run(migrate(settings.store))
        print(_report(f"PostgreSQL {redact(settings.store)}", before, after))
    return 0
