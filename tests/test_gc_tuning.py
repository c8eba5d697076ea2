"""The GC settings `roomcast serve` applies before it starts serving."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from roomcast.gc_tuning import THRESHOLDS, tune_gc_for_connections


@pytest.fixture
def _restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("_restore_gc")
def test_full_passes_are_spaced_out_and_start_up_objects_frozen() -> None:
    tune_gc_for_connections()
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[2] > 10  # CPython's default: what the tuning is for
    assert gc.get_freeze_count() > 0
