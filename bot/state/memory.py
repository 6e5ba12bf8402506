"""The in-process store: bounded, expiring dicts; the default when REDIS_URL is unset."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.context import Context
from bot.state.base import ContextStore, Counter, Dedupe, ErrorHook, Health

Clock = Callable[[], float]


class SeenSet:
    """Remembers keys for ``ttl`` seconds (bounded) so retries and duplicates are answered once."""

    def __init__(self, ttl: float, clock: Clock = time.monotonic, max_items: int = 100_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_items
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is offered within the window, False for a repeat."""
        now = self._clock()
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        """Drop ``key`` so a later retry is treated as new (used when answering failed)."""
        self._seen.pop(key, None)

    def _expire(self, now: float) -> None:
        """Drop keys older than the window, oldest first."""
        while self._seen:
            key, stamp = next(iter(self._seen.items()))
            if now - stamp <= self._ttl:
                break
            del self._seen[key]


class MemoryDedupe:
    """A SeenSet behind the async Dedupe protocol."""

    def __init__(self, ttl: float, clock: Clock = time.monotonic, max_items: int = 100_000) -> None:
        self._seen = SeenSet(ttl, clock, max_items)

    async def first_time(self, key: str) -> bool:
        """True the first time ``key`` is offered within the window."""
        return self._seen.first_time(key)

    async def forget(self, key: str) -> None:
        """Drop ``key``."""
        self._seen.forget(key)


class MemoryContexts:
    """LRU-bounded, expiring contexts; each process keeps its own."""

    def __init__(self, max_items: int = 10_000, ttl_seconds: float = 1800.0,
                 clock: Clock = time.monotonic) -> None:
        self._items: OrderedDict[str, tuple[float, Context]] = OrderedDict()
        self._max = max_items
        self._ttl = ttl_seconds
        self._clock = clock

    def get_now(self, key: str) -> Context | None:
        """The context for ``key`` if it has not expired (synchronous)."""
        entry = self._items.get(key)
        if entry is None:
            return None
        stamp, context = entry
        now = self._clock()
        if now - stamp > self._ttl:
            del self._items[key]
            return None
        self._items[key] = (now, context)  # a read renews the expiry, as Redis's GETEX does
        self._items.move_to_end(key)
        return context

    def put_now(self, key: str, context: Context) -> None:
        """Store ``context`` under ``key``, evicting the least recently used beyond the bound."""
        self._items[key] = (self._clock(), context)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    async def get(self, key: str) -> Context | None:
        """The context for ``key`` if it has not expired."""
        return self.get_now(key)

    async def put(self, key: str, context: Context) -> None:
        """Store ``context`` under ``key``."""
        self.put_now(key, context)

    def __len__(self) -> int:
        return len(self._items)


class MemoryCounter:
    """Fixed-window counters in a bounded dict (the oldest windows are dropped first)."""

    def __init__(self, clock: Clock = time.monotonic, max_items: int = 100_000) -> None:
        self._clock = clock
        self._max = max_items
        self._windows: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def incr_now(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Count one for ``key``: (count in this window, seconds left in it)."""
        now = self._clock()
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_seconds
        count += 1
        self._windows[key] = (count, ends)
        self._windows.move_to_end(key)
        while len(self._windows) > self._max:
            self._windows.popitem(last=False)
        return count, ends - now

    async def incr(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Count one for ``key`` in its current window."""
        return self.incr_now(key, window_seconds)


class MemoryState:
    """Every piece of state in this process; always healthy."""

    kind = "memory"

    def __init__(self, clock: Clock = time.monotonic, context_max_items: int = 10_000) -> None:
        self._clock = clock
        self._context_max = context_max_items

    def dedupe(self, namespace: str, ttl_seconds: float) -> Dedupe:
        """A fresh in-memory dedupe set (namespaces are separate objects)."""
        return MemoryDedupe(ttl_seconds, self._clock)

    def contexts(self, namespace: str, ttl_seconds: float) -> ContextStore:
        """A fresh in-memory context store."""
        return MemoryContexts(self._context_max, ttl_seconds, self._clock)

    def counter(self, namespace: str) -> Counter:
        """A fresh in-memory counter set."""
        return MemoryCounter(self._clock)

    def observe(self, on_error: ErrorHook) -> None:
        """Nothing to report: memory does not fail."""

    async def check(self) -> Health:
        """Always healthy."""
        return Health("memory", True)

    async def aclose(self) -> None:
        """Nothing to release."""
