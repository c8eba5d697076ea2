"""One write transaction of :class:`~roomcast.adapters.store.postgres.PostgresStore`.

A batch of queued writes runs in one transaction: the rows of the rooms it appends to are
locked first, in name order, and their offsets are then counted in memory and written once
at the end. A write that breaks a constraint makes the batch run again one write per
transaction, so it fails alone; a deadlock or serialization failure runs the batch again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from roomcast.adapters.store.checks import idempotency_key
from roomcast.errors import BadRequest, Unavailable
from roomcast.ports import MessageDraft, Sender, StoredMessage, TimelineEvent

__all__ = [
    "COLUMNS",
    "LOST",
    "Batch",
    "Conn",
    "Write",
    "apply_batch",
    "insert_event",
    "insert_messages",
    "message_from_row",
]

logger = logging.getLogger(__name__)

if TYPE_CHECKING:  # generic only in asyncpg-stubs, not at run time
    Conn: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.pool.PoolConnectionProxy

COLUMNS = 'room, "offset", id, ts, kind, sender_id, sender_name, text, data, cid'
_INSERT_MESSAGE = (
    f"INSERT INTO messages ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT DO NOTHING RETURNING true"
)
_BATCH_RETRIES = 3  # deadlocks and serialization failures: rare, and gone on a retry
# Errors of the connection or the server, not of one request: the whole batch fails.
LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)


class _OffsetTaken(Exception):
    """A message row already holds the offset this batch computed: something wrote without
    the room lock. Fails the one request, like a constraint."""


# Errors that belong to one request: the batch is retried request by request.
_REQUEST_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError, _OffsetTaken)


@dataclass(slots=True)
class Write:
    """One queued write: ``apply`` runs inside the batch transaction.

    ``rooms`` are the rooms it may append to; their rows are locked before any write runs.
    """

    apply: Callable[[Batch], Awaitable[object]]
    future: asyncio.Future[Any]
    rooms: tuple[str, ...] = ()
    events: bool = False


def message_from_row(row: asyncpg.Record) -> StoredMessage:
    sender_id = row["sender_id"]
    text, data = row["text"], row["data"]
    return StoredMessage(
        room=row["room"],
        offset=row["offset"],
        id=row["id"],
        ts=row["ts"],
        kind=row["kind"],
        sender=None if sender_id is None else Sender(sender_id, row["sender_name"]),
        text=None if text is None else bytes(text).decode("utf-8"),
        data=None if data is None else json.loads(data),
        cid=row["cid"],
    )


class Batch:
    """One write transaction: rooms' offsets as they grow, their rows written once at the end."""

    __slots__ = ("conn", "offsets", "touched")

    def __init__(self, conn: Conn, offsets: dict[str, int]) -> None:
        self.conn = conn
        self.offsets = offsets  # locked rooms -> last offset
        self.touched: dict[str, int] = {}  # room -> newest ts, in order of last append

    def appended(self, room: str, offset: int, ts: int) -> None:
        self.offsets[room] = offset
        self.touched.pop(room, None)  # re-inserted last: rooms' activity follows append order
        self.touched[room] = ts

    async def finish(self) -> None:
        """Write the touched rooms' rows; ``activity`` grows in append order."""
        if self.touched:
            await self.conn.executemany(
                "UPDATE rooms SET last_offset = $2, last_ts = $3,"
                " activity = nextval('room_activity') WHERE name = $1",
                [(room, self.offsets[room], ts) for room, ts in self.touched.items()],
            )


async def _lock_rooms(conn: Conn, rooms: list[str]) -> dict[str, int]:
    """Create missing room rows and lock them all, in name order; returns their offsets."""
    if not rooms:
        return {}
    await conn.execute(
        "INSERT INTO rooms (name, last_offset, last_ts, activity)"
        " SELECT name, 0, 0, 0 FROM unnest($1::text[]) AS name ON CONFLICT DO NOTHING",
        rooms,
    )
    rows = await conn.fetch(
        "SELECT name, last_offset FROM rooms WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE",
        rooms,
    )
    return {row["name"]: row["last_offset"] for row in rows}


async def insert_messages(
    batch: Batch, drafts: list[tuple[MessageDraft, str | None]]
) -> list[StoredMessage]:
    return [await _insert_one(batch, draft, data) for draft, data in drafts]


async def _insert_one(batch: Batch, draft: MessageDraft, data_json: str | None) -> StoredMessage:
    sender = draft.sender
    offset = batch.offsets[draft.room] + 1
    text = None if draft.text is None else draft.text.encode("utf-8")
    row = (
        draft.room,
        offset,
        os.urandom(16).hex(),
        draft.ts,
        draft.kind,
        sender.id if sender else None,
        sender.name if sender else None,
        text,
        data_json,
        draft.cid,
    )
    # One statement in the common case: a retried cid is caught by its unique index.
    if await batch.conn.fetchval(_INSERT_MESSAGE, *row):
        batch.appended(draft.room, offset, draft.ts)
        return StoredMessage(
            room=draft.room,
            offset=offset,
            id=row[2],
            ts=draft.ts,
            kind=draft.kind,
            sender=sender,
            text=draft.text,
            data=None if data_json is None else json.loads(data_json),
            cid=draft.cid,
        )
    key = idempotency_key(draft)
    # Sees earlier requests of the same batch too: they are in this transaction.
    existing = (
        None
        if key is None
        else await batch.conn.fetchrow(
            f"SELECT {COLUMNS} FROM messages"
            " WHERE room = $1 AND coalesce(sender_id, '') = $2 AND cid = $3",
            *key,
        )
    )
    if existing is None:
        raise _OffsetTaken(f"offset {offset} of room {draft.room!r} is taken")
    return message_from_row(existing)


async def insert_event(batch: Batch, event: TimelineEvent, data_json: str | None) -> TimelineEvent:
    actor = event.actor
    seq = await batch.conn.fetchval(
        "INSERT INTO timeline (room, ts, kind, actor_id, actor_name, data)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        event.room,
        event.ts,
        event.kind,
        None if actor is None else actor.id,
        None if actor is None else actor.name,
        data_json,
    )
    data = None if data_json is None else json.loads(data_json)
    return dataclasses.replace(event, seq=int(seq), data=data)


async def _transaction(conn: Conn, writes: list[Write]) -> list[object]:
    """Run ``writes`` in one transaction and commit; an error rolls it all back."""
    async with conn.transaction():
        offsets = await _lock_rooms(conn, sorted({room for w in writes for room in w.rooms}))
        if any(write.events for write in writes):
            # Held to the commit: seq values become visible in the order they were given.
            await conn.execute("LOCK TABLE timeline IN EXCLUSIVE MODE")
        batch = Batch(conn, offsets)
        outcomes = [await write.apply(batch) for write in writes]
        await batch.finish()
    return outcomes


def _request_error(exc: Exception) -> Exception:
    if isinstance(exc, asyncpg.DataError):
        return BadRequest(f"history store refused the value: {exc}")
    return Unavailable(f"history store could not write: {exc}")


async def apply_batch(conn: Conn, writes: list[Write]) -> list[object]:
    """Run ``writes`` in one transaction; return each result, or the error that undid it."""
    for attempt in range(_BATCH_RETRIES + 1):
        try:
            return await _transaction(conn, writes)
        except asyncpg.TransactionRollbackError:
            if attempt == _BATCH_RETRIES:
                raise
            logger.info("history store: batch rolled back by PostgreSQL, retrying")
        except _REQUEST_ERRORS as exc:
            if len(writes) == 1:
                return [_request_error(exc)]
            break
    outcomes: list[object] = []
    for write in writes:
        try:
            outcomes.extend(await _transaction(conn, [write]))
        except _REQUEST_ERRORS as exc:
            outcomes.append(_request_error(exc))
    return outcomes
