"""What only the PostgreSQL store promises: many processes on one database, and its schema."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from roomcast.adapters.store import PostgresStore
from roomcast.adapters.store.postgres_schema import SCHEMA_VERSION, migrate
from roomcast.cli import main
from roomcast.errors import ConfigError, Unavailable
from roomcast.ports import MessageDraft, Sender

T0 = 1_700_000_000_000


def text(body: str, *, cid: str | None = None, sender: str = "u-ada") -> MessageDraft:
    return MessageDraft("lobby", "text", T0, Sender(sender, sender), text=body, cid=cid)


@pytest.fixture
async def two_stores(migrated_dsn: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on one database, as two server processes have (each its own pool)."""
    first, second = PostgresStore(migrated_dsn), PostgresStore(migrated_dsn)
    await first.open()
    await second.open()
    yield first, second
    await first.close()
    await second.close()


async def test_two_stores_appending_to_one_room_keep_offsets_gapless(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two_stores
    # Each cid is sent to both stores at once, as a client retrying on another node would.
    drafts = [text(f"m{i}", cid=f"c{i}", sender=f"u{i % 7}") for i in range(150)]
    plain = [text(f"p{i}") for i in range(50)]

    results = await asyncio.gather(
        *(store.append(draft) for draft in drafts for store in (first, second)),
        *(first.append(d) if i % 2 else second.append(d) for i, d in enumerate(plain)),
    )

    by_cid = results[: 2 * len(drafts)]
    assert all(by_cid[i] == by_cid[i + 1] for i in range(0, len(by_cid), 2))
    history = await first.read("lobby", limit=500)
    assert [m.offset for m in history] == list(range(1, 201))
    assert len({m.id for m in history}) == 200
    assert await second.last_offset("lobby") == 200
    assert first.commits + second.commits < len(results)  # batched, not one per append


async def test_append_many_across_stores_interleaves_whole_batches(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = two_stores
    batches = [[text(f"{n}-{i}") for i in range(5)] for n in range(10)]

    stored = await asyncio.gather(
        *((first if n % 2 else second).append_many(batch) for n, batch in enumerate(batches))
    )

    for batch in stored:  # one transaction each: consecutive offsets
        assert [m.offset for m in batch] == list(range(batch[0].offset, batch[0].offset + 5))
    assert await first.last_offset("lobby") == 50


async def test_timeline_seq_is_committed_in_order_across_stores(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    from roomcast.ports import TimelineEvent

    first, second = two_stores
    events = [TimelineEvent("lobby", T0 + i, "note", data={"text": str(i)}) for i in range(40)]

    await asyncio.gather(*((first, second)[i % 2].add_events([e]) for i, e in enumerate(events)))

    seqs = [event.seq for event in await first.events("lobby")]
    assert len(seqs) == 40 and seqs == sorted(seqs)


async def test_a_missing_schema_is_refused_naming_roomcast_migrate(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    with pytest.raises(ConfigError, match=r"no Roomcast schema.*roomcast migrate --store"):
        await store.open()
    with pytest.raises(Unavailable):
        await store.read("lobby")


async def _set_version(dsn: str, version: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE roomcast_schema SET version = $1", version)
    finally:
        await conn.close()


async def test_an_older_schema_is_refused_naming_roomcast_migrate(migrated_dsn: str) -> None:
    await _set_version(migrated_dsn, 0)
    with pytest.raises(ConfigError, match=f"version 0, this Roomcast needs {SCHEMA_VERSION}"):
        await PostgresStore(migrated_dsn).open()


async def test_a_newer_schema_is_refused_and_not_migrated(migrated_dsn: str) -> None:
    await _set_version(migrated_dsn, SCHEMA_VERSION + 1)
    with pytest.raises(ConfigError, match="newer than this Roomcast understands"):
        await PostgresStore(migrated_dsn).open()
    with pytest.raises(ConfigError, match="newer than this Roomcast understands"):
        await migrate(migrated_dsn)


async def test_migrate_twice_at_once_makes_the_schema_once(postgres_dsn: str) -> None:
    results = await asyncio.gather(migrate(postgres_dsn), migrate(postgres_dsn))

    assert sorted(results) == [(0, SCHEMA_VERSION), (SCHEMA_VERSION, SCHEMA_VERSION)]
    store = PostgresStore(postgres_dsn)
    await store.open()
    await store.close()


async def test_an_unreachable_database_is_a_config_error() -> None:
    store = PostgresStore("postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="--store: cannot open PostgreSQL") as caught:
        await store.open()
    assert "secret" not in caught.value.message


def test_roomcast_migrate_creates_then_reports_the_schema(
    postgres_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--store", postgres_dsn]) == 0
    assert f"version 0 -> {SCHEMA_VERSION}" in capsys.readouterr().out
    assert main(["migrate", "--store", postgres_dsn]) == 0
    assert f"already at version {SCHEMA_VERSION}" in capsys.readouterr().out


def test_serve_on_an_unmigrated_database_exits_naming_roomcast_migrate(
    postgres_dsn: str, tmp_path: object
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roomcast",
            "serve",
            "--port",
            "0",
            "--store",
            postgres_dsn,
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "roomcast migrate --store" in done.stdout + done.stderr


def test_roomcast_key_keeps_keys_in_postgresql(
    migrated_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["key", "create", "cron", "--store", migrated_dsn]) == 0
    capsys.readouterr()
    assert main(["key", "list", "--store", migrated_dsn]) == 0
    assert capsys.readouterr().out.startswith("cron\t")


class CuttableProxy:
    """A TCP proxy to PostgreSQL that a test can cut, as a network fault or a restart would."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_a_lost_database_is_unavailable_then_the_pool_connects_again(
    migrated_dsn: str,
) -> None:
    parts = urlsplit(migrated_dsn)
    proxy = CuttableProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.start()
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    store = PostgresStore(urlunsplit(parts._replace(netloc=netloc)))
    await store.open()
    try:
        assert (await store.append(text("one"))).offset == 1

        await proxy.cut()
        with pytest.raises(Unavailable, match=r"PostgreSQL at postgresql://.* is unreachable"):
            await store.append(text("lost"))
        with pytest.raises(Unavailable, match="unreachable"):
            await store.read("lobby")

        await proxy.start()  # the same port
        assert (await store.append(text("two"))).offset == 2
        assert [m.text for m in await store.read("lobby")] == ["one", "two"]
    finally:
        await store.close()
        await proxy.cut()


async def test_a_request_that_breaks_a_constraint_fails_alone(migrated_dsn: str) -> None:
    conn = await asyncpg.connect(migrated_dsn)
    try:
        await conn.execute(
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'poisoned' USING ERRCODE = 'check_violation'; END $$;"
            " CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW"
            " WHEN (convert_from(NEW.text, 'UTF8') = 'poison') EXECUTE FUNCTION poison()"
        )
    finally:
        await conn.close()
    store = PostgresStore(migrated_dsn)
    await store.open()
    try:
        ok1, bad, ok2 = await asyncio.gather(
            store.append(text("one", cid="c1")),
            store.append(text("poison")),
            store.append(text("two")),
            return_exceptions=True,
        )
        assert isinstance(bad, Unavailable)
        assert "poisoned" in bad.message
        assert [getattr(m, "offset", None) for m in (ok1, ok2)] == [1, 2]
        assert [m.text for m in await store.read("lobby")] == ["one", "two"]
        assert (await store.append(text("one again", cid="c1"))).offset == 1
    finally:
        await store.close()
