"""What a server process holds, read from /proc: resident memory and open descriptors."""

from __future__ import annotations

import os
import resource
import statistics
from pathlib import Path

__all__ = ["fd_count", "raise_fd_limit", "rss_kib", "slope_per_minute"]


def rss_kib(pid: int) -> int:
    """Resident set size (VmRSS) of ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def fd_count(pid: int) -> int:
    """Open file descriptors of ``pid``."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, value)`` samples, per minute."""
    if len(samples) < 2:
        return 0.0
    times, values = zip(*samples, strict=True)
    return 60 * statistics.linear_regression(times, values).slope
