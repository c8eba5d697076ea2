"""``roomcast serve --workers N``: N server processes on one port, and the parent that minds them.

Each worker is a forked child that builds its own app and binds its own socket to the
shared port with ``SO_REUSEPORT``; the kernel spreads new connections evenly over the
workers' sockets (a single inherited socket would let whichever worker wakes first take
most of them). Every worker runs the whole server unchanged: uvicorn, the ASGI-free
WebSocket path and its own graceful shutdown. The workers share nothing in memory; they
share the store (SQLite file or PostgreSQL) and the Redis bus, as separate machines do.

The parent only supervises: it waits until every worker has started, forwards SIGTERM
(and Ctrl+C) to each as SIGTERM so that each drains gracefully, kills those still running
after the grace period, and starts a worker that died again, after a back-off that grows
while it keeps dying.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import FrameType

__all__ = ["Supervisor", "WorkerTarget"]

log = logging.getLogger("roomcast.workers")

#: What a worker runs: ``target(index, started)``, calling ``started()`` once it serves,
#: and returning its exit code.
WorkerTarget = Callable[[int, Callable[[], None]], int]

_FIRST_DELAY = 0.5  # seconds before the first restart of a worker that died
_LONGEST_DELAY = 30.0
_HEALTHY_AFTER = 60.0  # a worker that ran this long starts over from the first delay
_PR_SET_PDEATHSIG = 1


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    started: Connection  # the worker sends its pid once it serves
    since: float
    ready: bool = False


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies, even by SIGKILL.

    Without it a parent killed outright would leave its workers serving on the port.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _worker_main(target: WorkerTarget, index: int, started: Connection, parent: int) -> None:
    # Out of the terminal's process group: Ctrl+C reaches the parent only, which sends one
    # SIGTERM (a second SIGINT would make uvicorn skip its graceful shutdown).
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handlers came with fork
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _die_with_parent(parent)

    def report_started() -> None:
        started.send(os.getpid())
        started.close()

    raise SystemExit(target(index, report_started))


class Supervisor:
    """Starts ``count`` workers running ``target`` and keeps them running until stopped."""

    def __init__(
        self,
        count: int,
        target: WorkerTarget,
        *,
        grace: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = count
        self.target = target
        self.grace = grace
        self.clock = clock
        self.workers: dict[int, _Worker] = {}
        self._failures: dict[int, int] = {}
        self._restart_at: dict[int, float] = {}
        self._stopping = False
        self._kill = False
        self._context = multiprocessing.get_context("fork")
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers.values() if w.process.pid is not None]

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            self._kill = True  # asked twice: stop waiting for the graceful shutdown
        self._stopping = True
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_write, b"!")

    def _start(self, index: int) -> None:
        receive, send = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_worker_main,
            args=(self.target, index, send, os.getpid()),
            name=f"roomcast worker {index}",
        )
        process.start()
        send.close()  # the worker holds the other end; its exit closes the pipe
        self.workers[index] = _Worker(index, process, receive, self.clock())

    def _wait(self, timeout: float | None) -> None:
        objects: list[object] = [self._wake_read]
        for worker in self.workers.values():
            objects.append(worker.process.sentinel)
            if not worker.ready and not worker.started.closed:
                objects.append(worker.started)
        for ready in wait(objects, timeout):  # type: ignore[arg-type]
            if ready == self._wake_read:
                os.read(self._wake_read, 64)
        for worker in self.workers.values():
            if worker.ready or worker.started.closed or not worker.started.poll():
                continue
            try:
                worker.started.recv()
            except EOFError:
                worker.started.close()  # it died before serving; its sentinel says so
                continue
            worker.ready = True
            if self._failures.get(worker.index):
                log.warning("worker %d is serving again (pid %d)", worker.index, worker.process.pid)

    def start(self) -> int:
        """Start every worker and wait until all serve; 0, or the exit code of one that failed.

        Installs the parent's SIGTERM and SIGINT handlers; a signal during start-up stops
        the workers started so far.
        """
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for index in range(self.count):
            self._start(index)
        while not self._stopping:
            self._wait(None)
            failed = [w for w in self.workers.values() if w.process.exitcode is not None]
            if failed:
                self.stop()
                code = failed[0].process.exitcode or 1
                return code if code > 0 else 1
            if all(w.ready for w in self.workers.values()):
                return 0
        self.stop()
        return 0

    def run(self) -> int:
        """Supervise until SIGTERM or SIGINT, then stop every worker; returns 0."""
        while not self._stopping:
            now = self.clock()
            due = list(self._restart_at.values())
            self._wait(max(0.0, min(due) - now) if due else None)
            if self._stopping:
                break
            self._reap(self.clock())
            self._restart_due(self.clock())
        self.stop()
        return 0

    def _reap(self, now: float) -> None:
        for index, worker in list(self.workers.items()):
            code = worker.process.exitcode
            if code is None:
                continue
            del self.workers[index]
            pid = worker.process.pid
            worker.started.close()
            worker.process.close()
            ran = now - worker.since
            failures = 0 if ran >= _HEALTHY_AFTER else self._failures.get(index, 0)
            delay = min(_FIRST_DELAY * 2**failures, _LONGEST_DELAY)
            self._failures[index] = failures + 1
            self._restart_at[index] = now + delay
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            log.warning(
                "worker %d (pid %s) ended with %s after %.1f s; starting it again in %.1f s",
                index, pid, how, ran, delay,
            )  # fmt: skip

    def _restart_due(self, now: float) -> None:
        for index, when in list(self._restart_at.items()):
            if when <= now:
                del self._restart_at[index]
                self._start(index)

    def stop(self) -> None:
        """SIGTERM every worker, wait for their graceful shutdown, then kill the rest."""
        self._stopping = True
        self._restart_at.clear()
        for worker in self.workers.values():
            if worker.process.exitcode is None and worker.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGTERM)
        # uvicorn's drain, then the app's own shutdown (store and bus), then a margin.
        deadline = self.clock() + self.grace + 10.0
        while any(w.process.exitcode is None for w in self.workers.values()):
            left = deadline - self.clock()
            if left <= 0 or self._kill:
                break
            self._wait(min(left, 0.5))
        for worker in self.workers.values():
            if worker.process.exitcode is None:
                log.warning("worker %d (pid %d) did not stop; killing it", worker.index,
                            worker.process.pid)  # fmt: skip
                worker.process.kill()
                worker.process.join(5)
        for worker in self.workers.values():
            worker.started.close()
        self.workers.clear()
