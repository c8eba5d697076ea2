"""The token bucket, driven by a fake clock."""

from __future__ import annotations

import pytest

from roomcast.core.ratelimit import KeyedBuckets, TokenBucket, retry_after_header


def take_all(bucket: TokenBucket, now: float, most: int = 1_000) -> int:
    """How many events the bucket allows at ``now``."""
    taken = 0
    while taken < most and bucket.allow(now):
        taken += 1
    return taken


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=1.0, burst=5, now=100.0)
    assert take_all(bucket, 100.0) == 5
    assert bucket.allow(100.0) is False


def test_tokens_come_back_at_the_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=4, now=0.0)
    assert take_all(bucket, 0.0) == 4
    assert bucket.allow(0.25) is False  # half a token
    assert bucket.allow(0.5) is True  # one token
    assert bucket.allow(0.5) is False
    assert take_all(bucket, 1.5) == 2


def test_refill_stops_at_the_burst() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    assert take_all(bucket, 0.0) == 3
    assert take_all(bucket, 1_000.0) == 3


def test_idle_time_does_not_exceed_the_burst_at_start() -> None:
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    assert take_all(bucket, 60.0) == 3


def test_sustained_rate_over_time() -> None:
    bucket = TokenBucket(rate=4.0, burst=1, now=0.0)
    allowed = sum(take_all(bucket, step / 8) for step in range(80))  # ten seconds
    assert allowed == 40


def test_refusals_do_not_cost_tokens() -> None:
    bucket = TokenBucket(rate=1.0, burst=1, now=0.0)
    assert bucket.allow(0.0) is True
    for _ in range(10):
        assert bucket.allow(0.5) is False
    assert bucket.allow(1.0) is True


def test_cost() -> None:
    bucket = TokenBucket(rate=1.0, burst=10, now=0.0)
    assert bucket.allow(0.0, cost=7) is True
    assert bucket.allow(0.0, cost=4) is False
    assert bucket.allow(0.0, cost=3) is True
    assert bucket.allow(0.0, cost=1) is False


def test_a_cost_above_the_burst_is_never_allowed() -> None:
    bucket = TokenBucket(rate=100.0, burst=2, now=0.0)
    assert bucket.allow(1_000.0, cost=3) is False
    assert bucket.allow(1_000.0, cost=2) is True


def test_clock_going_backwards_adds_no_tokens() -> None:
    bucket = TokenBucket(rate=1.0, burst=2, now=100.0)
    assert take_all(bucket, 100.0) == 2
    assert bucket.allow(40.0) is False
    assert bucket.allow(90.0) is False


def test_clock_going_back_and_forth_adds_no_tokens() -> None:
    bucket = TokenBucket(rate=1.0, burst=5, now=100.0)
    assert take_all(bucket, 100.0) == 5
    assert bucket.allow(50.0) is False
    # Back where it was: no time has passed since the bucket was drained.
    assert bucket.allow(100.0) is False
    assert take_all(bucket, 101.0) == 1


def test_take_says_how_long_until_the_next_token() -> None:
    bucket = TokenBucket(rate=4.0, burst=1, now=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == pytest.approx(0.25)
    assert bucket.take(0.125) == pytest.approx(0.125)
    assert bucket.take(0.25) == 0.0


def test_keyed_buckets_are_one_per_key() -> None:
    buckets = KeyedBuckets(rate=1.0, burst=2)
    assert [buckets.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    assert buckets.take("b", 0.0) == 0.0  # b has a bucket of its own
    assert buckets.take("a", 1.0) == 0.0  # a's token came back


def test_keyed_buckets_forget_the_least_recently_seen_keys() -> None:
    buckets = KeyedBuckets(rate=1.0, burst=1, max_keys=2)
    buckets.take("a", 0.0)
    buckets.take("b", 0.0)
    buckets.take("a", 0.0)  # a is the most recent now, and empty
    buckets.take("c", 0.0)  # b is forgotten
    assert set(buckets._buckets) == {"a", "c"}
    assert buckets.take("a", 0.0) > 0  # a is still empty: it was kept


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30, "30")])
def test_retry_after_is_whole_seconds_never_zero(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header
