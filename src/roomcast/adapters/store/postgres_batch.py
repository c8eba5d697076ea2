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
    "Drafts",
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
_INSERT_MESSAGES = (
    f"INSERT INTO messages ({COLUMNS}) SELECT * FROM unnest($1::text[], $2::bigint[],"
    " $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::json[],"
    " $10::text[])"
)
_SELECT_BY_KEYS = (
    "SELECT "
    + ", ".join(f"m.{name.strip()}" for name in COLUMNS.split(","))
    + " FROM messages AS m JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (room, sender, cid)"
    " ON m.room = k.room AND coalesce(m.sender_id, '') = k.sender AND m.cid = k.cid"
)
_BATCH_RETRIES = 3  # deadlocks and serialization failures: rare, and gone on a retry
# Errors of the connection or the server, not of one request: the whole batch fails.
LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)


# Errors that belong to one request: the batch is retried request by request.
_REQUEST_ERRORS = (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


Drafts = list[tuple[MessageDraft, str | None]]  # each with its data as JSON text


@dataclass(slots=True)
class Write:
    """One queued write: messages to append, or ``apply`` to run inside the transaction.

    Appends are kept as data, not as a function, so that the appends of a batch are
    stored together: one look-up of retried cids and one insert, whatever their number.
    ``rooms`` are the rooms it appends to; their rows are locked before any write runs.
    """

    future: asyncio.Future[Any]
    apply: Callable[[Batch], Awaitable[object]] | None = None
    drafts: Drafts | None = None
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


async def insert_messages(batch: Batch, drafts: Drafts) -> list[StoredMessage]:
    """Store ``drafts`` in order with their rooms' next offsets; a known cid returns the
    stored message. Three statements at most, for any number of drafts."""
    known = await _stored_by_key(batch, drafts)
    results: list[StoredMessage] = []
    rows: list[tuple[object, ...]] = []
    for draft, data_json in drafts:
        key = idempotency_key(draft)
        if key is not None and key in known:
            results.append(known[key])
            continue
        offset = batch.offsets[draft.room] + 1
        message = StoredMessage(
            room=draft.room,
            offset=offset,
            id=os.urandom(16).hex(),
            ts=draft.ts,
            kind=draft.kind,
            sender=draft.sender,
            text=draft.text,
            data=None if data_json is None else json.loads(data_json),
            cid=draft.cid,
        )
        batch.appended(draft.room, offset, draft.ts)
        if key is not None:
            known[key] = message  # a retry later in the same batch
        results.append(message)
        sender = draft.sender
        rows.append(
            (
                draft.room,
                offset,
                message.id,
                draft.ts,
                draft.kind,
                sender.id if sender else None,
                sender.name if sender else None,
                None if draft.text is None else draft.text.encode("utf-8"),
                data_json,
                draft.cid,
            )
        )
    if rows:
        # No ON CONFLICT: with the rooms locked, a taken offset or cid means something
        # wrote without the lock, and the request fails (alone) on the constraint.
        await batch.conn.execute(
            _INSERT_MESSAGES, *(list(column) for column in zip(*rows, strict=True))
        )
    return results


async def _stored_by_key(batch: Batch, drafts: Drafts) -> dict[tuple[str, str, str], StoredMessage]:
    """The stored messages that drafts' idempotency keys name. Exact: the drafts' rooms are
    locked, and earlier writes of this transaction are visible to it."""
    keys = {key for draft, _ in drafts if (key := idempotency_key(draft)) is not None}
    if not keys:
        return {}
    rooms, senders, cids = (list(part) for part in zip(*keys, strict=True))
    rows = await batch.conn.fetch(_SELECT_BY_KEYS, rooms, senders, cids)
    found = {}
    for row in rows:
        message = message_from_row(row)
        key = idempotency_key(message)
        assert key is not None, "the query matched on cid"
        found[key] = message
    return found


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
        outcomes = await _run(batch, writes)
        await batch.finish()
    return outcomes


async def _run(batch: Batch, writes: list[Write]) -> list[object]:
    """Each write's result, in order; each run of consecutive appends is stored at once."""
    outcomes: list[object] = []
    start = 0
    while start < len(writes):
        end = start
        while end < len(writes) and writes[end].drafts is not None:
            end += 1
        if end == start:
            apply = writes[start].apply
            assert apply is not None, "a write has drafts or apply"
            outcomes.append(await apply(batch))
            start += 1
            continue
        group = [write.drafts or [] for write in writes[start:end]]
        stored = await insert_messages(batch, [row for drafts in group for row in drafts])
        for drafts in group:
            outcomes.append(stored[: len(drafts)])
            del stored[: len(drafts)]
        start = end
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
