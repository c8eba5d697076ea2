"""``roomcast link --room study-P07 --name P07 [--expires 2h] [--page /site/]``: a personal,
signed link to the chat page or to a page of the served prototype.

Signed with the secret in the data folder, so it works with the server that uses that
folder, across restarts. It prints the link, then its QR code for a phone in the lab.
"""

from __future__ import annotations

import sys

import segno

from roomcast.config import Settings
from roomcast.core.policy import parse_duration
from roomcast.links import link_secret, signed_link

__all__ = ["run_link"]


def run_link(
    settings: Settings,
    base_url: str,
    room: str,
    name: str,
    expires: str | None,
    qr: bool,
    page: str | None = None,
) -> int:
    """Print the link (stdout) and its QR code (stderr, so scripts can take the link)."""
    expires_in = None if expires is None else parse_duration(expires, "--expires")
    url = signed_link(base_url, link_secret(settings.data_dir), room, name, expires_in, page)
    print(url)
    if qr:
        segno.make(url, error="l").terminal(out=sys.stderr, compact=True)
    until = "does not expire" if expires is None else f"works for {expires}"
    print(f"Opens room {room!r} as {name!r}; it {until}.", file=sys.stderr)
    return 0
