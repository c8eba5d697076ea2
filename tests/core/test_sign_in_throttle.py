"""Wrong console passwords: a few a minute per address, then a wait; right ones reset."""

from __future__ import annotations

from roomcast.core.sign_in_throttle import SignInThrottle


def test_five_failures_a_minute_then_a_wait_that_ends() -> None:
    throttle = SignInThrottle()
    for second in range(5):
        assert throttle.retry_after("10.0.0.7", second) == 0
        throttle.failed("10.0.0.7", second)
    assert throttle.retry_after("10.0.0.7", 5) == 55  # until the first failure is a minute old
    assert throttle.retry_after("10.0.0.8", 5) == 0  # another address is not held up
    assert throttle.retry_after("10.0.0.7", 60) == 0


def test_success_forgets_the_failures() -> None:
    throttle = SignInThrottle()
    for second in range(4):
        throttle.failed("a", second)
    throttle.succeeded("a")
    for second in range(4):
        throttle.failed("a", 10 + second)
    assert throttle.retry_after("a", 14) == 0


def test_memory_is_bounded_by_forgetting_the_stalest_address() -> None:
    throttle = SignInThrottle(max_failures=1, max_addresses=3)
    for index, address in enumerate("abcd"):
        throttle.failed(address, index)
    assert throttle.retry_after("a", 4) == 0  # forgotten
    assert throttle.retry_after("d", 4) > 0
