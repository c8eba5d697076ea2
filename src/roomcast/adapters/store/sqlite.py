"""A durable :class:`~roomcast.ports.Store` on SQLite, for one machine.

Every write goes through one queue drained by one writer task; the task takes every request
pending at that moment and commits them in one transaction on one dedicated thread, so N
concurrent sends cost one fsync, not N (WAL, ``synchronous=FULL``: an acked message survives
kill -9 and power loss). Within a batch, each room's last offset is read once and its row
written once. If a request breaks a constraint, the batch is retried one transaction per
request, so that request fails alone. Reads use a second connection on a second thread
and never wait for the writer.

Schema version 3 (``PRAGMA user_version``; older files are upgraded on open)::

    rooms(name PK, last_offset, last_ts, activity)     activity: global counter, recency order
    messages(room, offset, id, ts, kind, sender_id, sender_name, text, data JSON, cid)
        PK (room, offset); UNIQUE (room, coalesce(sender_id, ''), cid) WHERE cid IS NOT NULL
    read_positions(room, member_id, offset)            PK (room, member_id)
    room_policies(room PK, client_posts, keep_last, keep_for)          since version 2
    api_keys(name PK, digest UNIQUE, created_ts)                       since version 2
    timeline(seq PK autoincrement, room, ts, kind, actor_id, actor_name, data JSON)
        INDEX (room, seq)                                              since version 3

A message without a sender has ``sender_id`` NULL; its idempotency key uses ``''`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from roomcast.adapters.store.checks import (
    check_draft,
    check_event,
    check_limit,
    check_read_position,
    idempotency_key,
)
from roomcast.adapters.store.write_queue import WriteQueue
from roomcast.core.policy import RoomPolicy
from roomcast.errors import BadRequest, ConfigError, Unavailable
from roomcast.ports import (
    ApiKey,
    MessageDraft,
    RoomSummary,
    Sender,
    StoredMessage,
    TimelineEvent,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore", "schema_version"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3

_SCHEMA_1 = (
    """CREATE TABLE rooms (
        name TEXT PRIMARY KEY,
        last_offset INTEGER NOT NULL,
        last_ts INTEGER NOT NULL,
        activity INTEGER NOT NULL
    )""",
    "CREATE INDEX rooms_by_activity ON rooms (activity)",
    """CREATE TABLE messages (
        room TEXT NOT NULL REFERENCES rooms (name),
        offset INTEGER NOT NULL,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        sender_id TEXT,
        sender_name TEXT,
        text TEXT,
        data TEXT,
        cid TEXT,
        PRIMARY KEY (room, offset)
    )""",
    """CREATE UNIQUE INDEX messages_by_cid
        ON messages (room, coalesce(sender_id, ''), cid) WHERE cid IS NOT NULL""",
    """CREATE TABLE read_positions (
        room TEXT NOT NULL,
        member_id TEXT NOT NULL,
        offset INTEGER NOT NULL,
        PRIMARY KEY (room, member_id)
    ) WITHOUT ROWID""",
)
# What each version adds to the one before; a new file runs them all in order.
_UPGRADES: dict[int, tuple[str, ...]] = {
    1: _SCHEMA_1,
    2: (
        """CREATE TABLE room_policies (
            room TEXT PRIMARY KEY,
            client_posts INTEGER NOT NULL,
            keep_last INTEGER,
            keep_for REAL
        ) WITHOUT ROWID""",
        """CREATE TABLE api_keys (
            name TEXT PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            created_ts INTEGER NOT NULL
        )""",
    ),
    3: (
        """CREATE TABLE timeline (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            room TEXT NOT NULL,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            actor_id TEXT,
            actor_name TEXT,
            data TEXT
        )""",
        "CREATE INDEX timeline_by_room ON timeline (room, seq)",
    ),
}

_COLUMNS = "room, offset, id, ts, kind, sender_id, sender_name, text, data, cid"
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)
_LAST_OFFSET = "SELECT last_offset FROM rooms WHERE name = ?"
_UPSERT_ROOM = (
    "INSERT INTO rooms (name, last_offset, last_ts, activity) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET last_offset = excluded.last_offset,"
    " last_ts = excluded.last_ts, activity = excluded.activity"
)
_INT64_MAX = 2**63 - 1

T = TypeVar("T")


@dataclass(slots=True)
class _Write:
    """One queued write: ``apply`` runs on the writer thread inside the batch transaction."""

    apply: Callable[[_Batch], object]
    future: asyncio.Future[Any]


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: the writer issues BEGIN/COMMIT itself; reads see each commit.
    conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _open_writer(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Open the writer connection, refusing newer schemas; create or upgrade the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _connect(path, busy_timeout)
    ready = False
    try:
        _check_version(conn, path)  # before anything writes to a file we may not understand
        mode = _journal_wal(conn, busy_timeout)
        if str(mode).lower() != "wal":
            raise ConfigError(f"--data-dir: {path} cannot use WAL journaling (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")  # two processes opening a new file create it once
        version = _check_version(conn, path)
        for upgrade in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _UPGRADES[upgrade]:
                conn.execute(statement)
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
        ready = True
        return conn
    finally:
        if not ready:
            conn.close()


def _journal_wal(conn: sqlite3.Connection, busy_timeout: float) -> object:
    """Switch to WAL, waiting out another process doing the same on a new file.

    Changing the journal mode needs an exclusive lock and SQLite answers "database is
    locked" at once instead of calling the busy handler, so several workers opening a new
    file together retry here, up to the busy timeout.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"--data-dir: {path} has schema version {version}, newer than this Roomcast "
            f"understands ({SCHEMA_VERSION}); upgrade Roomcast or use another folder"
        )
    return version


def schema_version(path: Path) -> int:
    """The schema version of the database at ``path``; 0 when there is none yet."""
    if not path.exists():
        return 0
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as c:
            return int(c.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise ConfigError(f"--data-dir: cannot open {path}: {exc}") from exc


def _open_reader(path: Path, busy_timeout: float) -> sqlite3.Connection:
    conn = _connect(path, busy_timeout)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _message(row: Any) -> StoredMessage:
    room, offset, id_, ts, kind, sender_id, sender_name, text, data, cid = row
    return StoredMessage(
        room=room,
        offset=offset,
        id=id_,
        ts=ts,
        kind=kind,
        sender=None if sender_id is None else Sender(sender_id, sender_name),
        text=text,
        data=None if data is None else json.loads(data),
        cid=cid,
    )


class _Batch:
    """One write transaction: rooms' offsets as they grow, their rows written once at the end.

    A batch of a hundred sends to one room reads that room's last offset once and
    upserts its row once, instead of both per message.
    """

    __slots__ = ("conn", "offsets", "touched")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.offsets: dict[str, int] = {}
        self.touched: dict[str, int] = {}  # room -> newest ts, in order of last append

    def next_offset(self, room: str) -> int:
        """The offset the room's next message gets; :meth:`appended` makes it taken."""
        offset = self.offsets.get(room)
        if offset is None:
            row = self.conn.execute(_LAST_OFFSET, (room,)).fetchone()
            offset = self.offsets[room] = row[0] if row else 0
        return offset + 1

    def appended(self, room: str, offset: int, ts: int) -> None:
        self.offsets[room] = offset
        self.touched.pop(room, None)  # re-inserted last: rooms' activity follows append order
        self.touched[room] = ts

    def finish(self) -> None:
        """Write the touched rooms' rows: last offset, last ts, and recency order."""
        if not self.touched:
            return
        (base,) = self.conn.execute("SELECT coalesce(max(activity), 0) FROM rooms").fetchone()
        self.conn.executemany(
            _UPSERT_ROOM,
            [
                (room, self.offsets[room], ts, base + rank)
                for rank, (room, ts) in enumerate(self.touched.items(), start=1)
            ],
        )


def _insert(batch: _Batch, drafts: list[tuple[MessageDraft, str | None]]) -> list[StoredMessage]:
    return [_insert_one(batch, draft, data) for draft, data in drafts]


def _insert_one(batch: _Batch, draft: MessageDraft, data_json: str | None) -> StoredMessage:
    conn = batch.conn
    sender = draft.sender
    row = (
        draft.room,
        batch.next_offset(draft.room),
        os.urandom(16).hex(),
        draft.ts,
        draft.kind,
        sender.id if sender else None,
        sender.name if sender else None,
        draft.text,
        data_json,
        draft.cid,
    )
    # One statement in the common case: a retried cid is caught by its unique index.
    inserted = conn.execute(_INSERT_MESSAGE, row).rowcount
    if inserted:
        batch.appended(draft.room, row[1], draft.ts)
        return _message(row)
    key = idempotency_key(draft)
    # Sees earlier requests of the same batch too: they are in this transaction.
    existing = (
        None
        if key is None
        else conn.execute(
            f"SELECT {_COLUMNS} FROM messages"
            " WHERE room = ? AND coalesce(sender_id, '') = ? AND cid = ?",
            key,
        ).fetchone()
    )
    if existing is None:  # the offset itself was taken: another writer lost track
        raise sqlite3.IntegrityError(f"offset {row[1]} of room {draft.room!r} is taken")
    return _message(existing)


def _insert_event(batch: _Batch, event: TimelineEvent, data_json: str | None) -> TimelineEvent:
    actor = event.actor
    cursor = batch.conn.execute(
        "INSERT INTO timeline (room, ts, kind, actor_id, actor_name, data)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            event.room,
            event.ts,
            event.kind,
            None if actor is None else actor.id,
            None if actor is None else actor.name,
            data_json,
        ),
    )
    assert cursor.lastrowid is not None, "an INSERT into a rowid table sets it"
    data = None if data_json is None else json.loads(data_json)
    return dataclasses.replace(event, seq=cursor.lastrowid, data=data)


def _upsert_read(batch: _Batch, room: str, member_id: str, offset: int) -> None:
    batch.conn.execute(
        "INSERT INTO read_positions (room, member_id, offset) VALUES (?, ?, ?)"
        " ON CONFLICT (room, member_id) DO UPDATE SET offset = max(offset, excluded.offset)",
        (room, member_id, offset),
    )


def _trim(batch: _Batch, room: str, below_offset: int | None, before_ts: int | None) -> int:
    # `below_offset` and `before_ts` are clamped like a read's bounds; NULL matches nothing.
    return batch.conn.execute(
        "DELETE FROM messages WHERE room = ?"
        " AND offset < (SELECT last_offset FROM rooms WHERE name = ?)"
        " AND (offset < ? OR ts < ?)",
        (
            room,
            room,
            None if below_offset is None else max(min(below_offset, _INT64_MAX), 0),
            None if before_ts is None else max(min(before_ts, _INT64_MAX), -_INT64_MAX),
        ),
    ).rowcount


def _transaction(conn: sqlite3.Connection, writes: list[_Write]) -> list[object]:
    """Run ``writes`` in one transaction and commit; on any error, roll it all back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Messages of a new room go in before the room's row (written by finish()).
        conn.execute("PRAGMA defer_foreign_keys = ON")
        batch = _Batch(conn)
        outcomes = [write.apply(batch) for write in writes]
        batch.finish()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def _apply_batch(conn: sqlite3.Connection, writes: list[_Write]) -> list[object]:
    """Run ``writes`` in one transaction; return each result, or the error that undid it.

    The common case costs one commit. A constraint one write breaks undoes the batch;
    then each write is retried in a transaction of its own, so only that write fails.
    Other errors (the file locked, the disk full) fail the whole batch: they would
    fail every retry too.
    """
    try:
        return _transaction(conn, writes)
    except sqlite3.IntegrityError as exc:
        if len(writes) == 1:
            return [Unavailable(f"history store could not write: {exc}")]
    outcomes: list[object] = []
    for write in writes:
        try:
            outcomes.extend(_transaction(conn, [write]))
        except sqlite3.IntegrityError as exc:
            outcomes.append(Unavailable(f"history store could not write: {exc}"))
    return outcomes


class SqliteStore:
    """History in one SQLite file; see :class:`roomcast.ports.Store` for the contract.

    ``commits`` counts committed write transactions (one per batch), for tests and metrics.
    ``busy_timeout`` is how long, in seconds, to wait for a lock held by another process.
    """

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.commits = 0
        self._state = "new"
        self._writes: WriteQueue[_Write] = WriteQueue(self._commit, "roomcast-sqlite-writer")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="roomcast-sqlite-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="roomcast-sqlite-reader")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None

    def _check_open(self) -> None:
        if self._state != "open":
            state = "closed" if self._state == "closed" else "not open"
            raise Unavailable(f"history store is {state}")

    async def open(self) -> None:
        """Open (creating if needed) the database and start the writer.

        Raises ``ConfigError`` if the file cannot be opened or has a newer schema.
        """
        if self._state != "new":
            self._check_open()
            return
        loop = asyncio.get_running_loop()
        try:
            self._wconn = await loop.run_in_executor(
                self._writer, _open_writer, self.path, self.busy_timeout
            )
            self._rconn = await loop.run_in_executor(
                self._reader, _open_reader, self.path, self.busy_timeout
            )
        except (sqlite3.Error, OSError) as exc:
            await self._fail_open()
            raise ConfigError(f"--data-dir: cannot open {self.path}: {exc}") from exc
        except ConfigError:
            await self._fail_open()
            raise
        self._state = "open"
        self._writes.start()

    async def close(self) -> None:
        """Commit every write queued so far, stop the writer and close the database."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"  # from here on nothing new is queued, so the stop mark is last
        await self._writes.stop()
        await self._release()

    async def _fail_open(self) -> None:
        self._state = "closed"
        await self._release()

    async def _release(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            if self._rconn is not None:
                await loop.run_in_executor(self._reader, self._rconn.close)
            if self._wconn is not None:
                await loop.run_in_executor(self._writer, self._wconn.close)
        finally:
            self._rconn = self._wconn = None
            self._reader.shutdown()
            self._writer.shutdown()

    async def _commit(self, writes: list[_Write]) -> list[object]:
        loop = asyncio.get_running_loop()
        conn = self._wconn
        assert conn is not None, "the writer runs only while the store is open"
        try:
            outcomes = await loop.run_in_executor(self._writer, _apply_batch, conn, writes)
        except Exception as exc:  # task boundary: fail this batch, keep the writer alive
            logger.exception("history store: a batch of %d writes failed", len(writes))
            reason = f"history store could not write: {exc}"
            outcomes = [Unavailable(reason) for _ in writes]
        else:
            self.commits += 1
        return outcomes

    async def _write(self, apply: Callable[[_Batch], T]) -> T:
        self._check_open()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._writes.put(_Write(apply, future))
        result: T = await future
        return result

    async def _read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        conn = self._rconn
        assert conn is not None, "set by open()"
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._reader, query, conn)
        except UnicodeEncodeError:
            raise BadRequest("room or member id is not valid Unicode text") from None
        except sqlite3.Error as exc:
            raise Unavailable(f"history store could not read: {exc}") from exc

    async def append(self, draft: MessageDraft) -> StoredMessage:
        """Store ``draft`` durably with the room's next offset; idempotent by cid."""
        return (await self.append_many([draft]))[0]

    async def append_many(self, drafts: Sequence[MessageDraft]) -> list[StoredMessage]:
        """Append ``drafts`` in order in one transaction; all are validated first."""
        self._check_open()
        rows = [(draft, check_draft(draft)) for draft in drafts]
        if not rows:
            return []
        return await self._write(lambda batch: _insert(batch, rows))

    async def read(
        self,
        room: str,
        *,
        since: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredMessage]:
        """Messages of ``room`` in increasing offset order; see ``Store.read``.

        With both ``since`` and ``before``: offsets strictly between them, oldest first.
        """
        check_limit(limit)
        where = ["room = ?"]
        params: list[object] = [room]
        # Clamped to SQLite's integer range; the clamp changes no result.
        if since is not None:
            where.append("offset > ?")
            params.append(max(min(since, _INT64_MAX), -1))
        if before is not None:
            where.append("offset < ?")
            params.append(max(min(before, _INT64_MAX), 0))
        params.append(min(limit, _INT64_MAX))
        order = "ASC" if since is not None else "DESC"
        sql = f"SELECT {_COLUMNS} FROM messages WHERE {' AND '.join(where)}"
        sql += f" ORDER BY offset {order} LIMIT ?"

        def query(conn: sqlite3.Connection) -> list[StoredMessage]:
            messages = [_message(row) for row in conn.execute(sql, params)]
            return messages if since is not None else messages[::-1]

        return await self._read(query)

    async def last_offset(self, room: str) -> int:
        """The room's newest offset; 0 for a room with no messages."""

        def query(conn: sqlite3.Connection) -> int:
            row = conn.execute(_LAST_OFFSET, (room,)).fetchone()
            return int(row[0]) if row else 0

        return await self._read(query)

    async def set_read(self, room: str, member_id: str, offset: int) -> None:
        """Remember how far a member has read; never moves backwards."""
        self._check_open()
        check_read_position(room, member_id, offset)
        await self._write(lambda batch: _upsert_read(batch, room, member_id, offset))

    async def get_read(self, room: str, member_id: str) -> int:
        """The member's read position in the room; 0 if none."""

        def query(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT offset FROM read_positions WHERE room = ? AND member_id = ?",
                (room, member_id),
            ).fetchone()
            return int(row[0]) if row else 0

        return await self._read(query)

    async def rooms(self) -> list[RoomSummary]:
        """Every room with at least one message, most recently appended to first."""

        def query(conn: sqlite3.Connection) -> list[RoomSummary]:
            rows = conn.execute(
                "SELECT name, last_offset, last_ts FROM rooms ORDER BY activity DESC"
            ).fetchall()
            return [RoomSummary(name, last_offset, last_ts) for name, last_offset, last_ts in rows]

        return await self._read(query)

    async def trim(
        self, room: str, *, below_offset: int | None = None, before_ts: int | None = None
    ) -> int:
        """Delete old messages of ``room`` by offset or time, never the newest one."""
        self._check_open()
        if below_offset is None and before_ts is None:
            return 0
        return await self._write(lambda batch: _trim(batch, room, below_offset, before_ts))

    async def set_policy(self, room: str, policy: RoomPolicy) -> None:
        """Remember the room's policy."""
        self._check_open()
        row = (room, int(policy.client_posts), policy.keep_last, policy.keep_for)
        await self._write(
            lambda batch: batch.conn.execute(
                "INSERT OR REPLACE INTO room_policies (room, client_posts, keep_last, keep_for)"
                " VALUES (?, ?, ?, ?)",
                row,
            )
        )

    async def policies(self) -> dict[str, RoomPolicy]:
        """Every room with a policy of its own."""

        def query(conn: sqlite3.Connection) -> dict[str, RoomPolicy]:
            rows = conn.execute(
                "SELECT room, client_posts, keep_last, keep_for FROM room_policies"
            ).fetchall()
            return {room: RoomPolicy(bool(posts), last, keep) for room, posts, last, keep in rows}

        return await self._read(query)

    async def add_key(self, name: str, digest: str, created_ts: int) -> None:
        """Store an API key; ``BadRequest`` if the name is taken."""
        self._check_open()
        # Taken names are reported here, not raised on the writer: only this write fails.
        inserted = await self._write(
            lambda batch: (
                batch.conn.execute(
                    "INSERT INTO api_keys (name, digest, created_ts) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (name, digest, created_ts),
                ).rowcount
            )
        )
        if not inserted:
            raise BadRequest(f"an API key named {name!r} exists; revoke it or choose another name")

    async def revoke_key(self, name: str) -> bool:
        """Delete the named key; False if there was none."""
        self._check_open()
        deleted = await self._write(
            lambda batch: (
                batch.conn.execute("DELETE FROM api_keys WHERE name = ?", (name,)).rowcount
            )
        )
        return bool(deleted)

    async def key_name(self, digest: str) -> str | None:
        """The name of the key with this digest, or None."""

        def query(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT name FROM api_keys WHERE digest = ?", (digest,)).fetchone()
            return None if row is None else str(row[0])

        return await self._read(query)

    async def keys(self) -> list[ApiKey]:
        """Every API key, oldest first."""

        def query(conn: sqlite3.Connection) -> list[ApiKey]:
            rows = conn.execute("SELECT name, created_ts FROM api_keys ORDER BY created_ts, name")
            return [ApiKey(name, ts) for name, ts in rows]

        return await self._read(query)

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
        """Record ``events`` in order in one transaction; all are validated first."""
        self._check_open()
        rows = [(event, check_event(event)) for event in events]
        if not rows:
            return []
        return await self._write(lambda batch: [_insert_event(batch, *row) for row in rows])

    async def events(self, room: str, *, after: int = 0, limit: int = 500) -> list[TimelineEvent]:
        """The room's events after ``seq``, oldest first."""
        check_limit(limit)
        params = (room, max(min(after, _INT64_MAX), -1), min(limit, _INT64_MAX))

        def query(conn: sqlite3.Connection) -> list[TimelineEvent]:
            rows = conn.execute(
                "SELECT seq, room, ts, kind, actor_id, actor_name, data FROM timeline"
                " WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?",
                params,
            )
            return [
                TimelineEvent(
                    room=room,
                    ts=ts,
                    kind=kind,
                    actor=None if actor_id is None else Sender(actor_id, actor_name),
                    data=None if data is None else json.loads(data),
                    seq=seq,
                )
                for seq, room, ts, kind, actor_id, actor_name, data in rows
            ]

        return await self._read(query)
