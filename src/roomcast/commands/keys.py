"""``roomcast key create|list|revoke``: API keys, kept in the server's store.

They work whether or not the server runs: SQLite lets both processes use the file (and
PostgreSQL any number), and the server looks keys up on each request, so a revoked key
stops working at once.
"""

from __future__ import annotations

import asyncio
import datetime
import sys

from roomcast.app import make_store
from roomcast.config import Settings
from roomcast.core.errors import ConfigError
from roomcast.ports import Store
from roomcast.transport.api_keys import create_key, parse_key_name

__all__ = ["run_key_command"]


def _store(settings: Settings) -> Store:
    if settings.store == "memory":
        raise ConfigError(
            "API keys live in the server's store; a server run with --store memory has none"
        )
    return make_store(settings)


async def _run(action: str, name: str | None, settings: Settings) -> int:
    store = _store(settings)
    await store.open()
    try:
        if action == "create":
            assert name is not None
            key = await create_key(store, name)
            print(key)
            print(
                f"Made API key {name!r}; it is shown only this once, so keep it now.\n"
                f"Use it as 'Authorization: Bearer <key>', or for roomcast publish:\n"
                f"  export ROOMCAST_KEY={key}",
                file=sys.stderr,
            )
        elif action == "revoke":
            assert name is not None
            if not await store.revoke_key(parse_key_name(name)):
                print(f"roomcast: error: there is no API key named {name!r}", file=sys.stderr)
                return 1
            print(f"Revoked API key {name!r}; requests with it now get 401.", file=sys.stderr)
        else:
            keys = await store.keys()
            for key_info in keys:
                made = datetime.datetime.fromtimestamp(key_info.created_ts / 1000).astimezone()
                print(f"{key_info.name}\tmade {made.isoformat(timespec='seconds')}")
            if not keys:
                print("No API keys yet; make one with: roomcast key create NAME", file=sys.stderr)
    finally:
        await store.close()
    return 0


def run_key_command(action: str, name: str | None, settings: Settings) -> int:
    """Run ``key create NAME``, ``key revoke NAME`` or ``key list``; returns the exit code."""
    return asyncio.run(_run(action, name, settings))
