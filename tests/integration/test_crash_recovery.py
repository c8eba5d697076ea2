"""``kill -9`` during a load of concurrent senders, again and again: no acked message is lost.

Each round starts 30 raw WebSocket clients sending into 3 rooms as fast as their acks
come back, kills the server with SIGKILL at a random moment, checks the SQLite file,
restarts the server on the same data and port, sends every unanswered message again with
its cid, and reads every room through the HTTP API: each acked message is there once, at
the offset its ack gave, and each room's offsets run 1..N.

    make test                                   # 10 rounds (3 on PostgreSQL)
    make crashloop                              # 100 rounds; CRASHLOOP_ITERATIONS=N for more
    ROOMCAST_CRASH_SEED=123 pytest ...          # replay one sequence of kill moments
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import RunningServer
from tests.integration.senders import History, Sent, retry, room_of, send_until_cut_off

ITERATIONS = int(os.environ.get("ROOMCAST_CRASHLOOP_ITERATIONS", "10"))
SENDERS = 30
ROOMS = [room_of(i, 3) for i in range(3)]
# The senders send as fast as acks come; per-connection limits would only slow them down.
UNLIMITED = ("--rate", "100000", "--burst", "100000")


async def load_then_kill(server: RunningServer, sent: Sent, delay: float, tag: str) -> None:
    """Start the senders, SIGKILL the server ``delay`` seconds after all have joined."""
    started = asyncio.Event()
    ready: list[int] = []
    senders = [
        asyncio.create_task(
            send_until_cut_off(
                server.url, i, room_of(i, len(ROOMS)), tag, sent, started, ready, SENDERS
            )
        )
        for i in range(SENDERS)
    ]
    try:
        async with asyncio.timeout(60):
            await started.wait()
        await asyncio.sleep(delay)
    finally:
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
    async with asyncio.timeout(60):
        await asyncio.gather(*senders)


def check_sqlite_file(path: Path, unanswered: list[str]) -> int:
    """The file left by the killed process: intact, offsets 1..N, no cid twice.

    Returns how many of the ``unanswered`` sends it holds (stored, the ack cut off).
    """
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for room, count, low, high, last in db.execute(
            "SELECT m.room, count(*), min(m.offset), max(m.offset), r.last_offset"
            " FROM messages m JOIN rooms r ON r.name = m.room GROUP BY m.room"
        ):
            assert (low, high, last) == (1, count, count), room
        twice = db.execute(
            "SELECT room, cid FROM messages WHERE cid IS NOT NULL"
            " GROUP BY room, coalesce(sender_id, ''), cid HAVING count(*) > 1"
        ).fetchall()
        assert twice == []
        marks = ",".join("?" * len(unanswered))
        query = f"SELECT count(*) FROM messages WHERE cid IN ({marks})"
        stored: int = db.execute(query, unanswered).fetchone()[0]
        return stored


def restart_after_kill(server: RunningServer) -> None:
    """Start again on the same data directory and port (clients come back to it)."""
    port = server.port
    assert server.process is not None
    server.process.wait(30)
    server.stop()  # collects its output; the process is gone already
    server.url = ""
    server.start(port)


# A deadline, generous for a loaded machine: each round starts the server again.
@pytest.mark.timeout(120 + 60 * ITERATIONS)
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_acked_messages_survive_kill_9(
    store: str, server_factory: Any, request: pytest.FixtureRequest
) -> None:
    rounds = ITERATIONS
    extra: tuple[str, ...] = UNLIMITED
    if store == "postgresql":
        extra += ("--store", request.getfixturevalue("migrated_dsn"))
        rounds = min(rounds, 3)  # the SQLite rounds are the main run; this one is a check
    server: RunningServer = server_factory(*extra)
    seed = int(os.environ.get("ROOMCAST_CRASH_SEED", random.randrange(1 << 32)))
    rng = random.Random(seed)
    acked: dict[str, dict[str, Any]] = {}
    history = History(ROOMS)
    acked_before_kill = retried = unacked_stored = 0
    for round_ in range(rounds):
        sent = Sent()
        delay = rng.uniform(0.05, 1.0)
        asyncio.run(load_then_kill(server, sent, delay, f"r{round_}"))
        assert sent.refused == []
        assert len(sent.closes) == SENDERS  # every sender saw its connection end
        acked_before_kill += len(sent.acked)
        if store == "sqlite":
            unacked_stored += check_sqlite_file(
                server.data_dir / "roomcast.db", list(sent.unanswered)
            )
        restart_after_kill(server)
        retried += asyncio.run(retry(server.url, sent))
        acked |= sent.acked
        history.catch_up(server.url)
        history.check(acked)
    history.reread(server.url)
    found = f" ({unacked_stored} of them stored before the kill)" if store == "sqlite" else ""
    print(
        f"\ncrash recovery ({store}, seed {seed}): {rounds} kill -9 rounds, "
        f"{acked_before_kill} messages acked before the kills, {retried} unanswered "
        f"sends retried{found}, {len(acked)} acked messages checked, "
        f"{history.total} stored, none lost"
    )
    # The kills came during the load, with messages acked before them.
    assert acked_before_kill >= rounds
