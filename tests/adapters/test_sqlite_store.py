"""What only the SQLite store promises: durability, batching, schema and file handling."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from roomcast.adapters.store import SqliteStore
from roomcast.adapters.store.sqlite import _SCHEMA_1, SCHEMA_VERSION
from roomcast.errors import ConfigError, Unavailable
from roomcast.ports import MessageDraft, Sender

ADA = Sender("u-ada", "Ada")
T0 = 1_700_000_000_000


def text(room: str, body: str, *, cid: str | None = None) -> MessageDraft:
    return MessageDraft(room=room, kind="text", ts=T0, sender=ADA, text=body, cid=cid)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(path)
    await opened.open()
    yield opened
    await opened.close()


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the file, as another process would have."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


async def test_history_survives_a_restart(path: Path) -> None:
    first = SqliteStore(path)
    await first.open()
    await first.append_many([text("lobby", "one", cid="c1"), text("lobby", "two")])
    await first.set_read("lobby", "u-ada", 2)
    await first.close()

    second = SqliteStore(path)
    await second.open()
    try:
        retry = await second.append(text("lobby", "one again", cid="c1"))
        third = await second.append(text("lobby", "three"))
        history = await second.read("lobby")
        assert retry.offset == 1
        assert third.offset == 3
        assert [(m.offset, m.text) for m in history] == [(1, "one"), (2, "two"), (3, "three")]
        assert await second.get_read("lobby", "u-ada") == 2
        assert [r.room for r in await second.rooms()] == ["lobby"]
    finally:
        await second.close()


async def test_concurrent_writes_are_committed_in_batches(store: SqliteStore, path: Path) -> None:
    before = store.commits

    stored = await asyncio.gather(*(store.append(text(f"r{i % 3}", str(i))) for i in range(100)))

    assert 1 <= store.commits - before < 100
    assert sorted(m.offset for m in stored if m.room == "r0") == list(range(1, 35))
    with raw(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (100,)


async def test_retries_in_one_batch_store_one_message(store: SqliteStore) -> None:
    before = store.commits
    draft = text("lobby", "hi", cid="c1")

    first, second = await asyncio.gather(store.append(draft), store.append(draft))

    assert store.commits - before == 1  # both requests really shared one transaction
    assert first == second
    assert await store.last_offset("lobby") == 1


async def test_failed_request_does_not_fail_its_batch(store: SqliteStore, path: Path) -> None:
    with raw(path) as conn:
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN new.text = 'poison'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )
    before = store.commits

    ok1, bad, ok2 = await asyncio.gather(
        store.append(text("lobby", "one")),
        store.append(text("lobby", "poison")),
        store.append(text("lobby", "two")),
        return_exceptions=True,
    )

    assert store.commits - before == 1
    assert isinstance(bad, Unavailable)
    assert "poisoned" in bad.message
    assert [getattr(m, "offset", None) for m in (ok1, ok2)] == [1, 2]
    assert [m.text for m in await store.read("lobby")] == ["one", "two"]


async def test_failed_transaction_fails_its_waiters_and_the_writer_goes_on(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqliteStore(path, busy_timeout=0.05)
    await store.open()
    try:
        with raw(path) as other:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            results = await asyncio.gather(
                store.append(text("lobby", "a")),
                store.set_read("lobby", "u-ada", 1),
                return_exceptions=True,
            )
            other.execute("ROLLBACK")

        assert all(isinstance(r, Unavailable) and "locked" in r.message for r in results)
        assert any(r.levelno == logging.ERROR for r in caplog.records)
        assert (await store.append(text("lobby", "b"))).offset == 1
        assert [m.text for m in await store.read("lobby")] == ["b"]
    finally:
        await store.close()


async def test_a_write_that_breaks_a_constraint_fails_alone(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        await store.append(text("b", "one"))
        with raw(path) as other:  # as if another writer lost track: b's next offset is taken
            other.execute("UPDATE rooms SET last_offset = 0 WHERE name = 'b'")
        results = await asyncio.gather(
            store.append(text("a", "x")),
            store.append(text("b", "two")),
            store.append(text("a", "y")),
            return_exceptions=True,
        )
        first, broken, second = results
        assert isinstance(broken, Unavailable)
        assert not isinstance(first, BaseException) and first.offset == 1
        assert not isinstance(second, BaseException) and second.offset == 2
        assert [m.text for m in await store.read("a")] == ["x", "y"]
        assert [m.text for m in await store.read("b")] == ["one"]
    finally:
        await store.close()


async def test_reads_do_not_wait_for_writes(path: Path) -> None:
    store = SqliteStore(path, busy_timeout=60)
    await store.open()
    try:
        await store.append(text("lobby", "first"))
        with raw(path) as other:
            other.execute("BEGIN IMMEDIATE")  # the writer thread now waits for this lock
            pending = asyncio.create_task(store.append(text("lobby", "second")))
            await asyncio.sleep(0)
            assert [m.text for m in await store.read("lobby")] == ["first"]
            assert await store.last_offset("lobby") == 1
            assert not pending.done()
            other.execute("ROLLBACK")
        assert (await pending).offset == 2
    finally:
        await store.close()


async def test_database_uses_wal_and_schema_version(store: SqliteStore, path: Path) -> None:
    await store.append(text("lobby", "hi"))
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


async def test_writer_connection_is_durable(store: SqliteStore) -> None:
    # synchronous and foreign_keys are per connection: ask the writer's own, on its thread.
    def pragmas() -> tuple[object, ...]:
        assert store._wconn is not None
        return tuple(
            store._wconn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "foreign_keys")
        )

    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(store._writer, pragmas) == (2, 1)  # FULL, on


async def test_newer_schema_is_refused_and_left_alone(path: Path) -> None:
    with raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    store = SqliteStore(path)
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}"):
        await store.open()

    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    with pytest.raises(Unavailable):
        await store.read("lobby")


async def test_a_version_1_file_is_upgraded_and_keeps_its_history(path: Path) -> None:
    with raw(path) as conn:
        for statement in _SCHEMA_1:
            conn.execute(statement)
        conn.execute("INSERT INTO rooms VALUES ('lobby', 1, 5, 1)")
        conn.execute(
            "INSERT INTO messages VALUES"
            " ('lobby', 1, 'id1', 5, 'text', 'u', 'Ada', 'hi', NULL, NULL)"
        )
        conn.execute("PRAGMA user_version = 1")

    store = SqliteStore(path)
    await store.open()
    try:
        assert [m.text for m in await store.read("lobby")] == ["hi"]
        await store.add_key("cron", "a" * 64, 1)
        assert await store.policies() == {}
    finally:
        await store.close()
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


@pytest.fixture
def garbage(path: Path) -> Path:
    path.write_bytes(b"this is not sqlite" * 100)
    return path


async def test_a_file_that_is_not_a_database_is_refused(garbage: Path) -> None:
    with pytest.raises(ConfigError, match="not a database"):
        await SqliteStore(garbage).open()


async def test_open_creates_missing_folders(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a" / "b" / "db.sqlite")
    await store.open()
    try:
        assert (await store.append(text("lobby", "hi"))).offset == 1
    finally:
        await store.close()
    assert (tmp_path / "a" / "b" / "db.sqlite").is_file()


async def test_close_commits_pending_writes_then_refuses(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    tasks = [asyncio.create_task(store.append(text("lobby", str(i)))) for i in range(20)]
    await asyncio.sleep(0)  # let every task queue its write

    await store.close()
    await store.close()  # closing twice is harmless

    assert sorted([(await t).offset for t in tasks]) == list(range(1, 21))
    with pytest.raises(Unavailable, match="closed"):
        await store.append(text("lobby", "late"))
    with pytest.raises(Unavailable, match="closed"):
        await store.open()
    with raw(path) as conn:
        assert conn.execute("SELECT max(offset) FROM messages").fetchone() == (20,)


async def test_calls_before_open_are_refused(path: Path) -> None:
    with pytest.raises(Unavailable, match="not open"):
        await SqliteStore(path).last_offset("lobby")


# Run by each of two processes: waves of concurrent appends, so each process commits many
# batches while the other appends between them (as `roomcast serve --workers 2` does).
_WRITER = """
import asyncio, sys
from pathlib import Path
from typing import Any
from roomcast.adapters.store import SqliteStore
from roomcast.ports import MessageDraft, Sender

async def main(path, name):
    store = SqliteStore(Path(path), busy_timeout=30.0)
    await store.open()
    me = Sender("u-" + name, name)
    for wave in range(20):
        drafts = [
            MessageDraft("shared", "text", 0, me, f"{name}-{wave}-{i}", cid=f"{wave}-{i}")
            for i in range(15)
        ]
        await asyncio.gather(*map(store.append, drafts))
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_processes_appending_to_one_room_keep_offsets_gapless(path: Path) -> None:
    import sys

    writers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", _WRITER, str(path), name)
        for name in ("ada", "bob")
    ]
    for writer in writers:
        assert await asyncio.wait_for(writer.wait(), 120) == 0
    reader = SqliteStore(path)
    await reader.open()
    try:
        stored = await reader.read("shared", since=0, limit=1000)
        assert [m.offset for m in stored] == list(range(1, 601))
        assert await reader.last_offset("shared") == 600
        senders = {m.sender.name for m in stored if m.sender is not None}
        assert senders == {"ada", "bob"}
        # Each process's own messages keep the order it appended them in.
        for name in senders:
            mine = [m.text for m in stored if m.sender is not None and m.sender.name == name]
            assert mine == [f"{name}-{wave}-{i}" for wave in range(20) for i in range(15)]
    finally:
        await reader.close()


def _open_new_file(path: str, results: Any) -> None:
    from roomcast.adapters.store.sqlite import _open_writer

    try:
        _open_writer(Path(path), 5.0).close()
        results.put("ok")
    except (sqlite3.Error, ConfigError) as error:  # reported to the test, which shows it
        results.put(repr(error))


def test_processes_opening_a_new_file_together_all_get_it(tmp_path: Path) -> None:
    # Workers of `serve --workers N` start at once on a new data folder. Switching a new
    # file to WAL answered "database is locked" at once to all but one of them, about
    # one time in a hundred; they now wait their turn.
    context = multiprocessing.get_context("fork")
    for round_ in range(15):
        path = str(tmp_path / f"db{round_}.sqlite")
        results = context.Queue()
        openers = [context.Process(target=_open_new_file, args=(path, results)) for _ in range(6)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(30)
        assert [results.get(timeout=5) for _ in openers] == ["ok"] * 6
