"""Socket.IO connection-state recovery: offsets, saved sessions, and what they get back."""

from __future__ import annotations

import pytest

from roomcast.core.recovery import RecoveryBuffer, SavedSession

WINDOW = 60.0


def session(
    pid: str = "p1", *, rooms: set[str] | None = None, namespace: str = "/"
) -> SavedSession:
    return SavedSession(
        sid="s1",
        pid=pid,
        namespace=namespace,
        rooms={"lobby"} if rooms is None else rooms,
        data={"name": "Ada"},
    )


def broadcast(buffer: RecoveryBuffer, room: str, now: float, namespace: str = "/") -> str:
    offset = buffer.next_offset()
    buffer.record(offset, namespace, room, f"frame {room} {offset}", now)
    return offset


def test_offsets_increase_and_carry_the_epoch() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    offsets = [buffer.next_offset() for _ in range(12)]
    assert offsets == [f"e1-{n}" for n in range(1, 13)]
    assert len(set(offsets)) == 12


def test_restore_returns_the_session_with_what_it_missed_in_order() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    last_seen = broadcast(buffer, "lobby", 1.0)
    saved = session(rooms={"lobby", "help"})
    buffer.save(saved, 2.0)
    missed = [
        broadcast(buffer, "lobby", 3.0),
        broadcast(buffer, "other", 3.0),
        broadcast(buffer, "help", 4.0),
        broadcast(buffer, "lobby", 5.0, namespace="/admin"),
        broadcast(buffer, "lobby", 6.0),
    ]
    restored = buffer.restore("p1", last_seen, "/", 7.0)
    assert restored is saved
    assert restored.sid == "s1"
    assert restored.rooms == {"lobby", "help"}
    assert restored.data == {"name": "Ada"}
    assert restored.missed == [
        f"frame lobby {missed[0]}",
        f"frame help {missed[2]}",
        f"frame lobby {missed[4]}",
    ]


def test_restore_at_the_latest_offset_misses_nothing() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    broadcast(buffer, "lobby", 1.0)
    last = broadcast(buffer, "lobby", 2.0)
    buffer.save(session(), 3.0)
    restored = buffer.restore("p1", last, "/", 4.0)
    assert restored is not None
    assert restored.missed == []


def test_restore_before_any_broadcast() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    buffer.save(session(), 0.0)
    offset = broadcast(buffer, "lobby", 1.0)
    restored = buffer.restore("p1", "e1-0", "/", 2.0)
    assert restored is not None
    assert restored.missed == [f"frame lobby {offset}"]


def test_restore_in_another_namespace() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    start = broadcast(buffer, "lobby", 0.0)
    buffer.save(session(namespace="/admin"), 1.0)
    broadcast(buffer, "lobby", 2.0)
    wanted = broadcast(buffer, "lobby", 2.0, namespace="/admin")
    restored = buffer.restore("p1", start, "/admin", 3.0)
    assert restored is not None
    assert restored.missed == [f"frame lobby {wanted}"]


def test_a_session_is_restored_only_once() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    offset = broadcast(buffer, "lobby", 0.0)
    buffer.save(session(), 1.0)
    assert buffer.restore("p1", offset, "/", 2.0) is not None
    assert buffer.restore("p1", offset, "/", 2.0) is None


def test_a_failed_restore_also_uses_up_the_session() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    offset = broadcast(buffer, "lobby", 0.0)
    buffer.save(session(), 1.0)
    assert buffer.restore("p1", offset, "/admin", 2.0) is None
    assert buffer.restore("p1", offset, "/", 2.0) is None


def test_sessions_are_kept_per_pid() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    offset = broadcast(buffer, "lobby", 0.0)
    buffer.save(session("p1"), 1.0)
    buffer.save(session("p2", rooms={"help"}), 1.0)
    restored = buffer.restore("p2", offset, "/", 2.0)
    assert restored is not None
    assert restored.rooms == {"help"}
    assert buffer.restore("p1", offset, "/", 2.0) is not None


@pytest.mark.parametrize(
    ("pid", "offset", "namespace"),
    [
        ("unknown", "e1-1", "/"),
        ("p1", None, "/"),
        ("p1", "e1-1", "/admin"),  # saved in "/"
        ("p1", "e0-1", "/"),  # another process's (or an earlier run's) offset
        ("p1", "1", "/"),
        ("p1", "", "/"),
        ("p1", "e1-", "/"),
        ("p1", "e1-x", "/"),
        ("p1", "e1--1", "/"),
        ("p1", "e1-1.0", "/"),
        ("p1", "e1-99", "/"),  # an offset this process has not given out yet
        ("p1", "e1-²", "/"),  # str.isdigit() says yes, int() says no
        ("p1", "e1-٣", "/"),  # an Arabic-Indic three
        ("p1", "e1-" + "9" * 5_000, "/"),  # over int()'s limit on digits
    ],
)
def test_restore_refuses(pid: str, offset: str | None, namespace: str) -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    broadcast(buffer, "lobby", 0.0)
    buffer.save(session(), 1.0)
    broadcast(buffer, "lobby", 2.0)
    assert buffer.restore(pid, offset, namespace, 3.0) is None


def test_epochs_containing_dashes() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="a-b")
    offset = broadcast(buffer, "lobby", 0.0)
    assert offset == "a-b-1"
    buffer.save(session(), 1.0)
    restored = buffer.restore("p1", offset, "/", 2.0)
    assert restored is not None
    assert restored.missed == []


def test_an_offset_older_than_the_kept_window_does_not_recover() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    old = broadcast(buffer, "lobby", 0.0)
    broadcast(buffer, "lobby", 1.0)  # dropped from the window below: would be missed
    broadcast(buffer, "lobby", 100.0)
    buffer.save(session(), 100.0)
    assert buffer.restore("p1", old, "/", 101.0) is None


def test_an_offset_just_before_the_kept_window_still_recovers() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    broadcast(buffer, "lobby", 0.0)
    seen = broadcast(buffer, "lobby", 1.0)
    kept = broadcast(buffer, "lobby", 100.0)  # the first one still kept
    buffer.save(session(), 100.0)
    restored = buffer.restore("p1", seen, "/", 101.0)
    assert restored is not None
    assert restored.missed == [f"frame lobby {kept}"]


def test_an_expired_session_does_not_recover() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    offset = broadcast(buffer, "lobby", 0.0)
    buffer.save(session(), 10.0)
    assert buffer.restore("p1", offset, "/", 10.0 + WINDOW + 0.5) is None


def test_a_session_is_kept_for_the_whole_window() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    buffer.save(session(), 10.0)
    offset = broadcast(buffer, "lobby", 10.0)
    restored = buffer.restore("p1", offset, "/", 10.0 + WINDOW)
    assert restored is not None


def test_expired_sessions_are_pruned_while_newer_ones_stay() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1")
    buffer.save(session("old"), 0.0)
    buffer.save(session("new"), 50.0)
    offset = broadcast(buffer, "lobby", 70.0)
    assert buffer.restore("old", offset, "/", 70.0) is None
    assert buffer.restore("new", offset, "/", 70.0) is not None


def test_the_packet_cap_bounds_what_is_kept() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1", max_packets=3)
    first = broadcast(buffer, "lobby", 0.0)
    buffer.save(session("p1"), 0.0)
    buffer.save(session("p2"), 0.0)
    kept = [broadcast(buffer, "lobby", 1.0) for _ in range(4)]  # the first of these is dropped
    # "first" is now too old: what followed it is partly gone.
    assert buffer.restore("p1", first, "/", 2.0) is None
    restored = buffer.restore("p2", kept[0], "/", 2.0)
    assert restored is not None
    assert restored.missed == [f"frame lobby {offset}" for offset in kept[1:]]


def test_the_oldest_frames_go_once_they_hold_too_many_characters() -> None:
    buffer = RecoveryBuffer(WINDOW, epoch="e1", max_chars=100)
    first = broadcast(buffer, "lobby", 0.0)  # frames of 16 characters: the last 6 fit in 100
    buffer.save(session("p1"), 0.0)
    buffer.save(session("p2"), 0.0)
    offsets = [broadcast(buffer, "lobby", 1.0) for _ in range(7)]
    assert buffer.restore("p1", first, "/", 2.0) is None  # what followed it is gone
    restored = buffer.restore("p2", offsets[0], "/", 2.0)
    assert restored is not None
    assert restored.missed == [f"frame lobby {offset}" for offset in offsets[1:]]
