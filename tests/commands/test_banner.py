"""The start-up banner: the console, its first password, and the LAN address with a QR code."""

from __future__ import annotations

from pathlib import Path

from roomcast.commands.banner import lan_addresses, serve_banner
from roomcast.config import Settings, load_settings


def settings(host: str) -> Settings:
    return load_settings({"host": host, "data_dir": Path("lab-data")}, environ={})


def test_loopback_shows_the_console_and_no_lan() -> None:
    text = serve_banner(settings("127.0.0.1"), 8000)
    assert "  Chat:     http://127.0.0.1:8000/\n" in text
    assert "  Console:  http://127.0.0.1:8000/console\n" in text
    assert "password" not in text and "LAN" not in text


def test_the_first_password_is_shown_with_how_to_change_it() -> None:
    text = serve_banner(settings("127.0.0.1"), 8000, console_password="s3cret-pw")
    assert "Console password (shown only now): s3cret-pw" in text
    assert "roomcast admin set-password --data-dir lab-data" in text


def test_all_interfaces_show_the_lan_urls_and_a_qr_code() -> None:
    text = serve_banner(
        settings("0.0.0.0"),
        8000,
        lan=lambda host: ["192.168.1.20"],
    )
    assert "  LAN:      http://192.168.1.20:8000/" in text
    assert "Scan to open it" in text and "█" in text  # the terminal QR code
    assert "WARNING: listening on 0.0.0.0" in text


def test_no_lan_address_is_said_plainly() -> None:
    text = serve_banner(settings("0.0.0.0"), 8000, lan=lambda host: [])
    assert "no network address found" in text and "█" not in text


def test_lan_addresses_come_from_routes_and_skip_loopback_and_duplicates() -> None:
    routes = {"10.254.254.254": "10.1.2.3", "192.168.254.254": "10.1.2.3", "172.16.254.254": None}
    assert lan_addresses("0.0.0.0", routes.get) == ["10.1.2.3"]
    assert lan_addresses("0.0.0.0", lambda probe: "127.0.0.1") == []
    assert lan_addresses("192.168.1.5", routes.get) == ["192.168.1.5"]
    real = lan_addresses("0.0.0.0")  # this machine's, whatever they are: never loopback
    assert all(not address.startswith("127.") for address in real)


def test_a_served_prototype_is_what_the_lan_qr_code_opens(tmp_path: Path) -> None:
    served = load_settings(
        {"host": "0.0.0.0", "data_dir": Path("lab-data"), "site": tmp_path}, environ={}
    )
    text = serve_banner(served, 8000, lan=lambda host: ["192.168.1.20"])
    assert f"  Site:     http://127.0.0.1:8000/site/  ({tmp_path}, with a chat button)" in text
    assert "  LAN:      http://192.168.1.20:8000/site/\n" in text
    assert "  Check:    http://127.0.0.1:8000/check" in text


def test_several_workers_are_counted_with_their_pids() -> None:
    text = serve_banner(settings("127.0.0.1"), 8000, workers=[101, 102])
    assert "  Workers:  2 processes share port 8000 (pids 101, 102)\n" in text
    assert "Workers" not in serve_banner(settings("127.0.0.1"), 8000)
