"""bot/channels/ratelimit.py: fixed windows over the state's counters, client keys."""

from __future__ import annotations

import pytest

from bot.channels.ratelimit import RateLimiter, client_key, is_loopback
from bot.state.memory import MemoryCounter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_limiter_allows_the_limit_then_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryCounter(clock), limit=2, window_seconds=60)
    assert await limiter.hit("ip") == (True, 0)
    clock.now += 0.5
    assert await limiter.hit("ip") == (True, 0)
    clock.now += 20
    assert await limiter.hit("ip") == (False, 40)  # ceil(39.5)
    assert await limiter.hit("other") == (True, 0)
    clock.now += 40
    assert await limiter.hit("ip") == (True, 0)


async def test_retry_after_is_never_zero() -> None:
    clock = Clock()
    limiter = RateLimiter(MemoryCounter(clock), limit=1, window_seconds=1)
    await limiter.hit("k")
    clock.now += 0.9999
    assert await limiter.hit("k") == (False, 1)


class FakeSharedCounters:
    """Another store behind the same Protocol, as a shared (Redis) store would be."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def incr(self, key: str, window_seconds: int) -> tuple[int, float]:
        self.calls.append((key, window_seconds))
        return len(self.calls), 7.2


async def test_the_limiter_uses_only_the_counter_protocol() -> None:
    store = FakeSharedCounters()
    limiter = RateLimiter(store, limit=1, window_seconds=30)
    assert await limiter.hit("x") == (True, 0)
    assert await limiter.hit("x") == (False, 8)
    assert store.calls == [("x", 30), ("x", 30)]


@pytest.mark.parametrize(("limit", "window"), [(0, 60), (5, 0), (-1, 10), (3, -1.5)])
def test_a_limit_needs_positive_numbers(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(MemoryCounter(), limit, window)


@pytest.mark.parametrize(("host", "key"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # the same /64: the same client
    ("::ffff:198.51.100.2", "198.51.100.2"),
    ("testclient", "testclient"),
    (None, "unknown"),
    ("", "unknown"),
])
def test_client_key(host: str | None, key: str) -> None:
    assert client_key(host) == key


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("2001:db8::1", False), ("localhost", False), (None, False),
])
def test_is_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback
