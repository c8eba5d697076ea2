"""The docs cannot drift from the code: settings, CLI flags and the README's commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from roomcast.cli import main
from roomcast.config import SETTING_FIELDS, env_var, flag_name, settings_table

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"


def serve_help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--help"])
    assert caught.value.code == 0
    return capsys.readouterr().out


def test_configuration_doc_contains_the_settings_table_verbatim() -> None:
    doc = CONFIGURATION.read_text(encoding="utf-8")
    assert settings_table() in doc, (
        "docs/configuration.md is out of date; paste roomcast.config.settings_table() into it"
    )


def test_every_setting_is_documented() -> None:
    doc = CONFIGURATION.read_text(encoding="utf-8")
    for f in SETTING_FIELDS:
        assert f"`{flag_name(f.name)}`" in doc, f.name
        assert f"`{env_var(f.name)}`" in doc, f.name


def test_every_flag_of_serve_help_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", serve_help(capsys))) - {"--help"}
    assert {flag_name(f.name) for f in SETTING_FIELDS} <= flags
    doc = CONFIGURATION.read_text(encoding="utf-8")
    undocumented = sorted(flag for flag in flags if f"`{flag}`" not in doc)
    assert not undocumented, f"flags missing from docs/configuration.md: {undocumented}"


@pytest.mark.parametrize("command", ["make run", "make test"])
def test_readme_shows_the_two_commands(command: str) -> None:
    assert command in README.read_text(encoding="utf-8")
