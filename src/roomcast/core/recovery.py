"""Socket.IO connection-state recovery, as socket.io 4.6+ does it, without I/O.

Every broadcast gets an offset and is kept for ``window`` seconds. When a connection
drops, its session (id, rooms, data) is kept too. A client that comes back within the
window with its private id and last offset gets the same session id, its rooms, and
every broadcast it missed; otherwise it starts a fresh session.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecoveryBuffer", "SavedSession"]

_MAX_PACKETS = 100_000  # bounds memory when traffic is heavy; older offsets do not recover
# Packets alone are no memory bound: presence broadcasts once listed up to 200 offline members
# each (about 15 KB, now 50), and messages may carry 64 KiB; the 2,000-connection soak grew the
# server by 16 MB a minute with only the packet cap (docs/topics/reliability.md).
_MAX_CHARS = 32 * 1024 * 1024


@dataclass(slots=True)
class SavedSession:
    """What a dropped connection leaves behind for recovery."""

    sid: str
    pid: str
    namespace: str
    rooms: set[str]
    data: dict[str, Any]
    missed: list[str] = field(default_factory=list)


class RecoveryBuffer:
    """Recent broadcasts and dropped sessions of one server process."""

    def __init__(
        self,
        window: float,
        *,
        epoch: str = "r",
        max_packets: int = _MAX_PACKETS,
        max_chars: int = _MAX_CHARS,
    ) -> None:
        self.window = window
        self._epoch = epoch  # tells this process's offsets from another's
        self._max_packets = max_packets
        self._max_chars = max_chars
        self._chars = 0  # of the frames kept
        self._seq = 0
        self._packets: deque[tuple[int, str, str, str, float]] = deque()
        self._sessions: OrderedDict[str, tuple[SavedSession, float]] = OrderedDict()

    def next_offset(self) -> str:
        self._seq += 1
        return f"{self._epoch}-{self._seq}"

    def record(self, offset: str, namespace: str, room: str, frame: str, now: float) -> None:
        """Keep a broadcast ``frame`` (sent with ``offset``) for replay."""
        self._packets.append((self._seq, namespace, room, frame, now))
        self._chars += len(frame)
        self._prune(now)

    def save(self, session: SavedSession, now: float) -> None:
        self._sessions[session.pid] = (session, now)
        self._prune(now)

    def restore(
        self, pid: str, offset: str | None, namespace: str, now: float
    ) -> SavedSession | None:
        """The saved session with the frames it missed, or ``None`` if it cannot recover."""
        self._prune(now)
        entry = self._sessions.pop(pid, None)
        if entry is None or offset is None:
            return None
        session, _ = entry
        seq = self._parse(offset)
        if session.namespace != namespace or seq is None:
            return None
        oldest = self._packets[0][0] if self._packets else self._seq + 1
        if seq < oldest - 1 or seq > self._seq:
            return None  # what followed that offset is no longer kept
        session.missed = [
            frame
            for packet_seq, packet_namespace, room, frame, _ in self._packets
            if packet_seq > seq and packet_namespace == namespace and room in session.rooms
        ]
        return session

    def _parse(self, offset: str) -> int | None:
        epoch, _, number = offset.rpartition("-")
        # The offset comes from the client: ASCII digits only ("²".isdigit() is true but
        # int() refuses it), and few enough that int() takes them.
        if epoch != self._epoch or not (number.isascii() and number.isdigit()) or len(number) > 20:
            return None
        return int(number)

    def _prune(self, now: float) -> None:
        horizon = now - self.window
        packets = self._packets
        while packets and (
            packets[0][4] < horizon
            or len(packets) > self._max_packets
            or self._chars > self._max_chars
        ):
            self._chars -= len(packets.popleft()[3])
        sessions = self._sessions
        while sessions:
            pid, (_, saved_at) = next(iter(sessions.items()))
            if saved_at >= horizon:
                break
            del sessions[pid]
