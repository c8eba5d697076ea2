"""A durable :class:`~roomcast.ports.Store` on PostgreSQL, shared by many server processes.

Writes go through one queue per process drained by one writer task, like the SQLite store:
the task takes every request pending at that moment and runs them in one transaction, so N
concurrent sends cost one commit. Offsets stay gapless across processes because a batch
first locks the row of every room it appends to (``SELECT … FOR UPDATE``, in name order so
two batches never wait on each other in a cycle); another process's batch for the same room
waits for the commit and then reads the new last offset. A retried ``cid`` is caught by a
unique index that every process shares. Timeline events take a table lock, so their ``seq``
is committed in increasing order and a reader paging with ``after`` skips none.

A request that breaks a constraint fails alone: the batch is retried one transaction per
request, as in SQLite. A deadlock or serialization failure retries the batch. A lost
connection fails the batch with ``Unavailable``; the pool connects again for the next one.
An append whose commit was cut off may or may not have been stored: a retry with the same
``cid`` returns it if it was. See ``postgres_schema`` for the tables.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from roomcast.adapters.store.checks import (
    check_draft,
    check_event,
    check_limit,
    check_read_position,
)
from roomcast.adapters.store.postgres_batch import (
    COLUMNS,
    LOST,
    Batch,
    Conn,
    Write,
    apply_batch,
    insert_event,
    message_from_row,
)
from roomcast.adapters.store.postgres_schema import check_schema
from roomcast.adapters.store.write_queue import WriteQueue
from roomcast.adapters.urls import redact
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

__all__ = ["PostgresStore"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_INT64_MAX = 2**63 - 1


def _check_no_nul(*values: str | None) -> None:
    # PostgreSQL text cannot hold U+0000; message text and data are stored so that they can.
    for value in values:
        if value is not None and "\x00" in value:
            raise BadRequest("names, ids and cids cannot contain the character U+0000")


class PostgresStore:
    """History in a PostgreSQL database; see :class:`roomcast.ports.Store` for the contract.

    ``dsn`` is a ``postgresql://`` URL; query parameters asyncpg does not know become server
    settings, so ``?search_path=roomcast`` puts the tables in schema ``roomcast``. The schema
    must have been made by ``roomcast migrate``. ``commits`` counts committed batches.
    """

    def __init__(self, dsn: str, *, pool_size: int = 10, command_timeout: float = 30.0) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self.command_timeout = command_timeout
        self.commits = 0
        self._state = "new"
        self._writes: WriteQueue[Write] = WriteQueue(self._commit, "roomcast-pg-writer")
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    def _check_open(self) -> None:
        if self._state != "open":
            state = "closed" if self._state == "closed" else "not open"
            raise Unavailable(f"history store is {state}")

    async def open(self) -> None:
        """Connect, check the schema version and start the writer.

        Raises ``ConfigError`` if the database cannot be reached or its schema is not
        the one this release needs (the message says to run ``roomcast migrate``).
        """
        if self._state != "new":
            self._check_open()
            return
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=1,
                max_size=self.pool_size,
                command_timeout=self.command_timeout,
                timeout=10,
            )
            async with self._pool.acquire() as conn:
                await check_schema(conn, self.dsn)
        except (asyncpg.PostgresError, *LOST, ValueError) as exc:
            await self._release()
            raise ConfigError(
                f"--store: cannot open PostgreSQL at {redact(self.dsn)}: {exc}"
            ) from None
        except ConfigError:
            await self._release()
            raise
        self._state = "open"
        self._writes.start()

    async def close(self) -> None:
        """Commit every write queued so far, stop the writer and close the pool."""
        if self._state != "open":
            self._state = "closed"
            return
        self._state = "closed"  # from here on nothing new is queued, so the stop mark is last
        await self._writes.stop()
        await self._release()

    async def _release(self) -> None:
        self._state = "closed"
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 10)
            except (TimeoutError, *LOST):
                pool.terminate()

    async def _commit(self, writes: list[Write]) -> list[object]:
        pool = self._pool
        assert pool is not None, "the writer runs only while the store is open"
        try:
            async with pool.acquire() as conn:
                outcomes = await apply_batch(conn, writes)
        except Exception as exc:  # task boundary: fail this batch, keep the writer alive
            logger.warning(
                "history store: a batch of %d writes failed: %s", len(writes), exc, exc_info=True
            )
            reason = self._unavailable(exc, "write")
            outcomes = [reason for _ in writes]
        else:
            self.commits += 1
        return outcomes

    def _unavailable(self, exc: BaseException, what: str) -> Unavailable:
        if isinstance(exc, LOST):
            return Unavailable(
                f"history store could not {what}: PostgreSQL at {redact(self.dsn)} is "
                f"unreachable ({type(exc).__name__}: {exc})"
            )
        return Unavailable(f"history store could not {what}: {exc}")

    async def _write(
        self,
        apply: Callable[[Batch], Awaitable[T]],
        *,
        events: bool = False,
    ) -> T:
        self._check_open()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._writes.put(Write(future, apply=apply, events=events))
        result: T = await future
        return result

    async def _read(self, query: Callable[[Conn], Awaitable[T]]) -> T:
        self._check_open()
        pool = self._pool
        assert pool is not None, "set by open()"
        try:
            async with pool.acquire() as conn:
                return await query(conn)
        except UnicodeEncodeError:
            raise BadRequest("room or member id is not valid Unicode text") from None
        except asyncpg.DataError as exc:
            raise BadRequest(f"history store refused the value: {exc}") from None
        except (asyncpg.PostgresError, *LOST) as exc:
            raise self._unavailable(exc, "read") from exc

    async def append(self, draft: MessageDraft) -> StoredMessage:
        """Store ``draft`` durably with the room's next offset; idempotent by cid."""
        return (await self.append_many([draft]))[0]

    async def append_many(self, drafts: Sequence[MessageDraft]) -> list[StoredMessage]:
        """Append ``drafts`` in order in one transaction; all are validated first."""
        self._check_open()
        rows = []
        for draft in drafts:
            data = check_draft(draft)
            sender = draft.sender
            _check_no_nul(draft.room, draft.cid, *((sender.id, sender.name) if sender else ()))
            rows.append((draft, data))
        if not rows:
            return []
        self._check_open()
        future: asyncio.Future[list[StoredMessage]] = asyncio.get_running_loop().create_future()
        rooms = tuple({draft.room for draft in drafts})
        self._writes.put(Write(future, drafts=rows, rooms=rooms))
        return await future

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
        where = ["room = $1"]
        params: list[object] = [room]
        # Clamped to 64-bit integers; the clamp changes no result.
        if since is not None:
            params.append(max(min(since, _INT64_MAX), -1))
            where.append(f'"offset" > ${len(params)}')
        if before is not None:
            params.append(max(min(before, _INT64_MAX), 0))
            where.append(f'"offset" < ${len(params)}')
        params.append(min(limit, _INT64_MAX))
        order = "ASC" if since is not None else "DESC"
        sql = f"SELECT {COLUMNS} FROM messages WHERE {' AND '.join(where)}"
        sql += f' ORDER BY "offset" {order} LIMIT ${len(params)}'

        async def query(conn: Conn) -> list[StoredMessage]:
            messages = [message_from_row(row) for row in await conn.fetch(sql, *params)]
            return messages if since is not None else messages[::-1]

        return await self._read(query)

    async def last_offset(self, room: str) -> int:
        """The room's newest offset; 0 for a room with no messages."""

        async def query(conn: Conn) -> int:
            value = await conn.fetchval("SELECT last_offset FROM rooms WHERE name = $1", room)
            return 0 if value is None else int(value)

        return await self._read(query)

    async def set_read(self, room: str, member_id: str, offset: int) -> None:
        """Remember how far a member has read; never moves backwards."""
        self._check_open()
        check_read_position(room, member_id, offset)
        _check_no_nul(room, member_id)

        async def apply(batch: Batch) -> None:
            await batch.conn.execute(
                'INSERT INTO read_positions (room, member_id, "offset") VALUES ($1, $2, $3)'
                ' ON CONFLICT (room, member_id) DO UPDATE SET "offset" ='
                ' greatest(read_positions."offset", excluded."offset")',
                room,
                member_id,
                offset,
            )

        await self._write(apply)

    async def get_read(self, room: str, member_id: str) -> int:
        """The member's read position in the room; 0 if none."""

        async def query(conn: Conn) -> int:
            value = await conn.fetchval(
                'SELECT "offset" FROM read_positions WHERE room = $1 AND member_id = $2',
                room,
                member_id,
            )
            return 0 if value is None else int(value)

        return await self._read(query)

    async def rooms(self) -> list[RoomSummary]:
        """Every room with at least one message, most recently appended to first."""

        async def query(conn: Conn) -> list[RoomSummary]:
            rows = await conn.fetch(
                "SELECT name, last_offset, last_ts FROM rooms WHERE last_offset > 0"
                " ORDER BY activity DESC"
            )
            return [RoomSummary(r["name"], r["last_offset"], r["last_ts"]) for r in rows]

        return await self._read(query)

    async def trim(
        self, room: str, *, below_offset: int | None = None, before_ts: int | None = None
    ) -> int:
        """Delete old messages of ``room`` by offset or time, never the newest one."""
        self._check_open()
        if below_offset is None and before_ts is None:
            return 0
        # Clamped like a read's bounds; NULL matches nothing.
        below = None if below_offset is None else max(min(below_offset, _INT64_MAX), 0)
        ts = None if before_ts is None else max(min(before_ts, _INT64_MAX), -_INT64_MAX)

        async def apply(batch: Batch) -> int:
            deleted = await batch.conn.fetchval(
                "WITH gone AS (DELETE FROM messages WHERE room = $1"
                ' AND "offset" < (SELECT last_offset FROM rooms WHERE name = $1)'
                ' AND ("offset" < $2 OR ts < $3) RETURNING 1) SELECT count(*) FROM gone',
                room,
                below,
                ts,
            )
            return int(deleted)

        return await self._write(apply)

    async def set_policy(self, room: str, policy: RoomPolicy) -> None:
        """Remember the room's policy."""
        self._check_open()
        _check_no_nul(room)

        async def apply(batch: Batch) -> None:
            await batch.conn.execute(
                "INSERT INTO room_policies (room, client_posts, keep_last, keep_for)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (room) DO UPDATE SET"
                " client_posts = excluded.client_posts, keep_last = excluded.keep_last,"
                " keep_for = excluded.keep_for",
                room,
                policy.client_posts,
                policy.keep_last,
                policy.keep_for,
            )

        await self._write(apply)

    async def policies(self) -> dict[str, RoomPolicy]:
        """Every room with a policy of its own."""

        async def query(conn: Conn) -> dict[str, RoomPolicy]:
            rows = await conn.fetch(
                "SELECT room, client_posts, keep_last, keep_for FROM room_policies"
            )
            return {
                r["room"]: RoomPolicy(r["client_posts"], r["keep_last"], r["keep_for"])
                for r in rows
            }

        return await self._read(query)

    async def add_key(self, name: str, digest: str, created_ts: int) -> None:
        """Store an API key; ``BadRequest`` if the name is taken."""
        self._check_open()
        _check_no_nul(name, digest)

        async def apply(batch: Batch) -> bool:
            inserted = await batch.conn.fetchval(
                "INSERT INTO api_keys (name, digest, created_ts) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING true",
                name,
                digest,
                created_ts,
            )
            return bool(inserted)

        if not await self._write(apply):
            raise BadRequest(f"an API key named {name!r} exists; revoke it or choose another name")

    async def revoke_key(self, name: str) -> bool:
        """Delete the named key; False if there was none."""
        self._check_open()

        async def apply(batch: Batch) -> bool:
            found = await batch.conn.fetchval(
                "DELETE FROM api_keys WHERE name = $1 RETURNING true", name
            )
            return bool(found)

        return await self._write(apply)

    async def key_name(self, digest: str) -> str | None:
        """The name of the key with this digest, or None."""

        async def query(conn: Conn) -> str | None:
            name = await conn.fetchval("SELECT name FROM api_keys WHERE digest = $1", digest)
            return None if name is None else str(name)

        return await self._read(query)

    async def keys(self) -> list[ApiKey]:
        """Every API key, oldest first."""

        async def query(conn: Conn) -> list[ApiKey]:
            rows = await conn.fetch(
                "SELECT name, created_ts FROM api_keys ORDER BY created_ts, name"
            )
            return [ApiKey(r["name"], r["created_ts"]) for r in rows]

        return await self._read(query)

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
        """Record ``events`` in order in one transaction; all are validated first."""
        self._check_open()
        rows = []
        for event in events:
            data = check_event(event)
            actor = event.actor
            _check_no_nul(event.room, *((actor.id, actor.name) if actor else ()))
            rows.append((event, data))
        if not rows:
            return []

        async def apply(batch: Batch) -> list[TimelineEvent]:
            return [await insert_event(batch, *row) for row in rows]

        return await self._write(apply, events=True)

    async def events(self, room: str, *, after: int = 0, limit: int = 500) -> list[TimelineEvent]:
        """The room's events after ``seq``, oldest first."""
        check_limit(limit)
        after = max(min(after, _INT64_MAX), -1)
        limit = min(limit, _INT64_MAX)

        async def query(conn: Conn) -> list[TimelineEvent]:
            rows = await conn.fetch(
                "SELECT seq, ts, kind, actor_id, actor_name, data FROM timeline"
                " WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                room,
                after,
                limit,
            )
            return [
                TimelineEvent(
                    room=room,
                    ts=r["ts"],
                    kind=r["kind"],
                    actor=None if r["actor_id"] is None else Sender(r["actor_id"], r["actor_name"]),
                    data=None if r["data"] is None else json.loads(r["data"]),
                    seq=r["seq"],
                )
                for r in rows
            ]

        return await self._read(query)
