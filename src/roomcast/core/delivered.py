"""Which offsets of each room this node has broadcast, to find what the bus did not bring.

Messages reach a node through the bus, and not always in offset order (two nodes append to
one room; Redis interleaves their publications). A gap that does not fill — the bus was
down, or a node died between storing a message and publishing it — is read from the store
("catch-up"). Per room this keeps ``low``, the lowest offset not yet broadcast here, and the
offsets above it that were; catch-up reads from ``low`` and then :meth:`settle`\\ s the room.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DeliveredOffsets"]

_MAX_ABOVE = 10_000  # offsets kept above a gap; more means a catch-up is due anyway


@dataclass(slots=True)
class _Room:
    low: int  # every offset below it was broadcast here (or is settled)
    above: set[int] = field(default_factory=set)


class DeliveredOffsets:
    """Broadcast offsets per room, and the rooms whose gaps need a read from the store."""

    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}
        self._suspect: dict[str, int] = {}  # rooms with a gap at the last check, and its low

    def rooms(self) -> list[str]:
        return list(self._rooms)

    def start(self, room: str, offset: int) -> None:
        """A member joined ``room`` and was given every message through ``offset``: follow
        the room from there.

        A room already followed keeps its state: other members here rely on it.
        """
        if room not in self._rooms:
            self._rooms[room] = _Room(offset + 1)

    def delivered(self, room: str, offset: int) -> bool:
        """Note that ``offset`` of ``room`` is broadcast here; False if it already was.

        The caller then skips the broadcast: a message that comes both live and from a
        catch-up goes out once. Rooms not followed (see :meth:`start`) are always True.
        """
        state = self._rooms.get(room)
        if state is None:
            # Not followed: nobody joined it here. Starting from the first offset seen could
            # take an earlier one still on its way for a repeat, so only a join starts.
            return True
        if offset < state.low or offset in state.above:
            return False
        elif offset == state.low:
            state.low += 1
            while state.low in state.above:
                state.above.remove(state.low)
                state.low += 1
        elif len(state.above) < _MAX_ABOVE:  # beyond it, a repeat is possible but harmless
            state.above.add(offset)
        return True

    def resume_point(self, room: str) -> int | None:
        """The offset to read after (``since``) to catch ``room`` up; None if not followed."""
        state = self._rooms.get(room)
        return None if state is None else state.low - 1

    def settle(self, room: str, through: int) -> None:
        """The store was read through ``through``: whatever is missing below it is gone."""
        state = self._rooms.get(room)
        if state is None or through < state.low:
            return
        state.above = {offset for offset in state.above if offset > through}
        state.low = through + 1
        while state.low in state.above:
            state.above.remove(state.low)
            state.low += 1
        self._suspect.pop(room, None)

    def forget(self, room: str) -> None:
        """Stop following ``room`` (nobody here listens to it any more)."""
        self._rooms.pop(room, None)
        self._suspect.pop(room, None)

    def stale_gaps(self) -> list[str]:
        """Rooms whose gap has not moved since the previous call: the bus will not fill it.

        Called periodically; a gap from out-of-order arrival fills within milliseconds, so
        one that survives a whole period is read from the store.
        """
        gapped = {room: state.low for room, state in self._rooms.items() if state.above}
        stale = [room for room, low in gapped.items() if self._suspect.get(room) == low]
        self._suspect = gapped
        return stale
