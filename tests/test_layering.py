"""``core/`` and ``protocol/`` import only the standard library and each other.

They are sans-I/O: no event loop, sockets or SQL, and no clock or random ids (those are
passed in), so they can be tested by feeding them values. ``client/`` stands beside the
server: it reuses ``protocol/`` and the error classes but nothing of ``transport/``,
``adapters/`` or the app, so a client never needs the server's code or dependencies.
Checked on the source with ast.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PURE_PACKAGES = ("roomcast.core", "roomcast.protocol")
FORBIDDEN = {"asyncio", "socket", "sqlite3", "random", "secrets", "uuid", "time"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(
    path for package in PURE_PACKAGES for path in (SRC / package.replace(".", "/")).rglob("*.py")
)


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module that ``source`` (the text of ``module``) imports, as absolute names."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def imports(path: Path) -> list[tuple[int, str]]:
    return imports_in(
        path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py"
    )


def is_allowed(name: str) -> bool:
    if name.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(name == package or name.startswith(package + ".") for package in PURE_PACKAGES)


CLIENT_MODULES = sorted((SRC / "roomcast" / "client").rglob("*.py"))
CLIENT_MAY_IMPORT = (
    "roomcast.client",
    "roomcast.protocol",
    "roomcast.core.errors",
    "roomcast.errors",
    "websockets",  # AsyncClient's WebSocket
    "httpx",  # Publisher's HTTP
)


def client_may_import(name: str) -> bool:
    if name.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(name == allowed or name.startswith(allowed + ".") for allowed in CLIENT_MAY_IMPORT)


def test_the_pure_packages_are_found() -> None:
    names = {module_name(path) for path in MODULES}

    assert {"roomcast.protocol.engineio", "roomcast.protocol.socketio"} <= names
    assert "roomcast.core.recovery" in names


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_only_stdlib_core_and_protocol(path: Path) -> None:
    bad = [f"line {line}: {name}" for line, name in imports(path) if not is_allowed(name)]

    assert bad == [], f"{module_name(path)} imports beyond the standard library"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_io_clock_or_randomness(path: Path) -> None:
    bad = [
        f"line {line}: {name}" for line, name in imports(path) if name.split(".")[0] in FORBIDDEN
    ]

    assert bad == [], f"{module_name(path)} must get time and ids passed in, and do no I/O"


def test_the_client_modules_are_found() -> None:
    names = {module_name(path) for path in CLIENT_MODULES}

    assert {
        "roomcast.client",
        "roomcast.client.async_client",
        "roomcast.client.connection",
    } <= names


@pytest.mark.parametrize("path", CLIENT_MODULES, ids=module_name)
def test_the_client_imports_nothing_of_the_server(path: Path) -> None:
    bad = [f"line {line}: {name}" for line, name in imports(path) if not client_may_import(name)]

    assert bad == [], f"{module_name(path)} imports beyond protocol/, the errors and its libraries"


# -- the checker itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("import json", True),
        ("from collections import deque", True),
        ("import os.path", True),
        ("from roomcast.protocol.errors import ProtocolError", True),
        ("import roomcast.core.recovery", True),
        ("from roomcast.core import recovery", True),
        ("from roomcast.transport import engine_server", False),
        ("from roomcast import errors", False),  # the package root is not core
        ("import roomcast.errors", False),
        ("import uvicorn", False),
        ("from starlette.requests import Request", False),
        ("import roomcast_extra", False),
        ("def f():\n    import httpx", False),  # imports inside functions count too
    ],
)
def test_checker_allows_only_stdlib_core_and_protocol(source: str, allowed: bool) -> None:
    names = [name for _, name in imports_in(source, "roomcast.core.example")]

    assert names
    assert all(is_allowed(name) for name in names) is allowed


def test_checker_resolves_relative_imports() -> None:
    source = "from .errors import X\nfrom ..transport import y\nfrom . import z\n"

    names = [name for _, name in imports_in(source, "roomcast.protocol.example")]

    assert names == ["roomcast.protocol.errors", "roomcast.transport", "roomcast.protocol"]
    assert [is_allowed(name) for name in names] == [True, False, True]


def test_checker_resolves_relative_imports_in_a_package_init() -> None:
    names = [name for _, name in imports_in("from . import a", "roomcast.core", is_package=True)]

    assert names == ["roomcast.core"]


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        ("import asyncio", True),
        ("from websockets.asyncio.client import connect", True),
        ("from roomcast.protocol import socketio", True),
        ("from roomcast.core.errors import Forbidden", True),
        ("from roomcast.client.errors import ClientClosed", True),
        ("from roomcast.transport.socketio_server import SioServer", False),
        ("from roomcast.adapters.store import sqlite", False),
        ("from roomcast.app import create_app", False),
        ("from roomcast.core.validation import parse_send", False),
        ("import roomcast", False),  # the package root imports the client: a cycle
        ("import uvicorn", False),
    ],
)
def test_checker_keeps_the_client_apart(source: str, allowed: bool) -> None:
    names = [name for _, name in imports_in(source, "roomcast.client.example")]

    assert all(client_may_import(name) for name in names) is allowed
