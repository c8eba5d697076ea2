"""Member ids for names: one person with two tabs is one member."""

from __future__ import annotations

import pytest

from roomcast.core.identity import member_id_for_name


@pytest.mark.parametrize(
    "other",
    ["Ada Lovelace", "ada lovelace", "ADA LOVELACE", "  Ada   Lovelace ", "Ada\tLovelace\n"],
)
def test_same_name_in_other_case_or_spacing_is_the_same_member(other: str) -> None:
    assert member_id_for_name(other) == member_id_for_name("Ada Lovelace")


def test_casefold_not_just_lower() -> None:
    assert member_id_for_name("STRASSE") == member_id_for_name("straße")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ada", "Bob"),
        ("Ada", "Ada2"),
        ("Ada Lovelace", "AdaLovelace"),
        ("P07", "P7"),
        ("Zoë", "Zoe"),
    ],
)
def test_different_names_are_different_members(a: str, b: str) -> None:
    assert member_id_for_name(a) != member_id_for_name(b)


def test_ids_are_stable_opaque_and_distinct_for_many_names() -> None:
    ids = {member_id_for_name(f"P{i:02}") for i in range(1_000)}
    assert len(ids) == 1_000
    sample = member_id_for_name("Ada")
    assert sample == member_id_for_name("Ada")
    assert sample.startswith("n-")
    assert len(sample) == 2 + 16
    int(sample[2:], 16)  # hex digits only: no trace of the name
