"""What ``roomcast serve`` prints when it starts: where everything is, and how to reach it.

Besides the local addresses it names the console (with its password, the one time it was
made) and, when the server listens beyond this machine, its address on the local network
with a QR code, so that a tester's phone in the lab can open it by scanning the screen.
"""

from __future__ import annotations

import io
import ipaddress
import socket
from collections.abc import Callable, Sequence

import segno

from roomcast import __version__
from roomcast.adapters.urls import redact
from roomcast.config import Settings

__all__ = ["lan_addresses", "serve_banner", "store_place"]

# Private addresses whose routes say which local address faces the network. Connecting a
# UDP socket only asks the kernel for a route: no packet leaves the machine.
_PROBES = ("10.254.254.254", "192.168.254.254", "172.16.254.254")
_WILDCARDS = ("0.0.0.0", "::", "")


def _route_source(probe: str) -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((probe, 9))
            return str(sock.getsockname()[0])
    except OSError:  # no route to that network
        return None


def lan_addresses(
    host: str, route_source: Callable[[str], str | None] = _route_source
) -> list[str]:
    """The IPv4 addresses others on the network reach a server listening on ``host`` at."""
    if host not in _WILDCARDS:
        return [host]
    found: list[str] = []
    for probe in _PROBES:
        address = route_source(probe)
        if address is None or address in found:
            continue
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            continue
        if not (parsed.is_loopback or parsed.is_unspecified or parsed.is_link_local):
            found.append(address)
    return found


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _qr(url: str) -> str:
    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True)
    return out.getvalue().rstrip("\n")


def store_place(settings: Settings) -> str:
    """Where the history is kept, for people: ``SQLite in roomcast-data`` and the like."""
    if settings.store == "sqlite":
        return f"SQLite in {settings.data_dir}"
    if settings.store == "memory":
        return "memory (no history kept)"
    return f"PostgreSQL at {redact(settings.store)}"


def serve_banner(
    settings: Settings,
    port: int,
    pages: Sequence[tuple[str, str]] = (),
    *,
    console_password: str | None = None,
    workers: Sequence[int] = (),
    lan: Callable[[str], list[str]] = lan_addresses,
) -> str:
    """The start-up text; ``console_password`` is shown when it was just made.

    ``workers`` are the pids of the worker processes, when more than one serves.
    """
    host = settings.host
    shown = "127.0.0.1" if host in _WILDCARDS else host
    base = f"http://{_url_host(shown)}:{port}"
    where = store_place(settings)
    if settings.bus != "local":
        where += f", shared with other nodes through {redact(settings.bus)}"
    lines = [
        f"Roomcast {__version__} is serving, history in {where}",
        f"  Chat:     {base}/",
        f"  A room:   {base}/r/lobby?name=Ada",
        f'  Live:     {base}/live/<room>  (pages: <script src="{base}/live.js" defer>)',
        f"  Console:  {base}/console",
        f"  Check:    {base}/check  (a tester's device, before the session)",
        f"  Health:   {base}/healthz",
        *(f"  {label + ':':<10}{base}{path}" for label, path in pages),
    ]
    if len(workers) > 1:
        pids = ", ".join(map(str, workers))
        lines.insert(1, f"  Workers:  {len(workers)} processes share port {port} (pids {pids})")
    # With a prototype served, that is what testers (and the LAN QR code) should open.
    landing = "/"
    if settings.site is not None:
        landing = "/site/"
        lines.insert(1, f"  Site:     {base}/site/  ({settings.site}, with a chat button)")
    if console_password is not None:
        lines += [
            f"  Console password (shown only now): {console_password}",
            f"    change it with: roomcast admin set-password --data-dir {settings.data_dir}",
        ]
    if not settings.is_loopback:
        urls = [f"http://{_url_host(address)}:{port}{landing}" for address in lan(host)]
        lines += [f"  LAN:      {url}" for url in urls]
        if urls:
            lines += ["  Scan to open it on a phone on the same network:", _qr(urls[0])]
        elif host in _WILDCARDS:
            lines.append("  LAN:      no network address found on this machine")
        lines.append(
            f"  WARNING: listening on {host}: rooms are open to anyone who can reach this "
            "machine on that network."
        )
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)
