"""Soak: a real server under chat traffic, joins, leaves and reconnects for a while.

``make test`` runs it for 60 seconds with 500 connections (2 cores, shared with the rest
of the suite); ``make soak`` for 20 minutes with 2,000. Both size it with SOAK_SECONDS,
SOAK_CONNECTIONS and SOAK_PERIOD (mean seconds between one connection's actions). See
``loadgen`` for what is checked along the way; here, also: the server's descriptors are
back to where they were once every client has left, and, on runs of 5 minutes or more,
its resident memory over the second half of the run grows by less than ``MAX_SLOPE_KIB``.

The first half is the warm-up: the server's bounded buffers fill for that long at the
soak's churn (the recovery buffer's 120-s window; presence's offline members, 50 a room,
reached about 4.5 minutes into a 2,000-connection run). The slope from a quarter of the
run is printed too, and the RSS at every minute, so that a plateau can be seen.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from tests.conftest import RunningServer
from tests.soak.loadgen import Load, Tally, run_load, verify
from tests.soak.procstat import fd_count, raise_fd_limit, rss_kib, slope_per_minute

SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "500"))
PERIOD = float(os.environ.get("SOAK_PERIOD", "10"))
SAMPLE_EVERY = 5.0  # seconds between RSS samples
#: Growth per minute a long run may show after its warm-up. A leak of 1 KiB per
#: reconnect or per 20 messages would pass it at these rates; one per message would not.
MAX_SLOPE_KIB = 512.0
LONG_RUN = 300.0  # seconds from which the slope is asserted, not only reported


async def sample_rss(pid: int, samples: list[tuple[float, int]]) -> None:
    """Append ``(seconds, VmRSS KiB)`` every few seconds until cancelled."""
    start = time.monotonic()
    while True:
        samples.append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(SAMPLE_EVERY)


def slope_after(samples: list[tuple[float, int]], warm_up: float) -> float:
    """KiB per minute of the samples taken after ``warm_up`` seconds."""
    return slope_per_minute([(t, float(kib)) for t, kib in samples if t >= warm_up])


async def settle_fds(pid: int, baseline: int) -> int:
    """The server's descriptor count once it is back to ``baseline`` (or after a deadline)."""
    deadline = time.monotonic() + 60
    while fd_count(pid) > baseline and time.monotonic() < deadline:  # noqa: ASYNC110 -- /proc has no event
        await asyncio.sleep(0.5)
    return fd_count(pid)


@pytest.mark.timeout(int(SECONDS * 2 + 600))
async def test_soak(server_factory: object) -> None:
    raise_fd_limit()  # for this process and the server it starts
    server: RunningServer = server_factory()  # type: ignore[operator]
    assert server.process is not None
    pid = server.process.pid
    fds_before = fd_count(pid)
    rss_start = rss_kib(pid)
    load = Load(server.url, CONNECTIONS, SECONDS, PERIOD)
    tally = Tally()
    samples: list[tuple[float, int]] = []
    sampler = asyncio.create_task(sample_rss(pid, samples))
    started = time.monotonic()
    try:
        clients = await run_load(load, tally)
    finally:
        sampler.cancel()
    rss_end = rss_kib(pid)
    stored = await verify(load, clients, tally)
    await asyncio.gather(*(client.close() for client in clients))
    fds_after = await settle_fds(pid, fds_before)
    slope, early_slope = slope_after(samples, SECONDS / 2), slope_after(samples, SECONDS / 4)
    by_minute = {int(t // 60): kib for t, kib in samples}  # the last sample of each minute
    rss_by_minute = " ".join(f"{kib / 1024:.1f}" for kib in by_minute.values())

    ran = time.monotonic() - started
    print(
        f"\nsoak: {CONNECTIONS} connections, {SECONDS:.0f} s (ran {ran:.0f} s), "
        f"an action every {PERIOD:g} s each, {len(load.rooms)} rooms\n"
        f"  messages: {tally.sent} sent, {tally.acked} acked, {tally.delivered} delivered live,"
        f" {tally.caught_up} caught up on rejoin, {tally.duplicates} duplicates dropped,"
        f" {stored} in history\n"
        f"  churn: {tally.joins} joins, {tally.leaves} leaves, {tally.reconnects} reconnects"
        f" ({tally.connections} connections opened)\n"
        f"  server RSS: {rss_start / 1024:.1f} MiB at start, {rss_end / 1024:.1f} MiB at end;"
        f" slope over the second half {slope:+.0f} KiB/min, from a quarter {early_slope:+.0f}\n"
        f"  server RSS at each minute (MiB): {rss_by_minute}\n"
        f"  server fds: {fds_before} before, {fds_after} after every client left\n"
        f"  errors: {dict(tally.errors) or 'none'}"
    )
    assert not tally.errors, "\n".join(tally.examples)
    assert tally.acked == tally.sent > 0
    assert tally.reconnects > 0 and tally.leaves > 0
    assert fds_after <= fds_before
    if SECONDS >= LONG_RUN:
        assert slope < MAX_SLOPE_KIB
