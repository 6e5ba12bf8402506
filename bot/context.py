"""Per-conversation memory for follow-ups: a small interface with a bounded in-memory default."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.model import Answer


@dataclass(frozen=True, slots=True)
class Context:
    """What a follow-up question can lean on: the previous answer in the same chat."""

    last: Answer


class ContextStore(Protocol):
    """Where channels keep one Context per chat or channel key."""

    def get(self, key: str) -> Context | None:
        """The live context for ``key``, or None."""

    def put(self, key: str, context: Context) -> None:
        """Remember ``context`` for ``key``."""


class InMemoryContextStore:
    """LRU-bounded, expiring store; replace with a shared store for several processes."""

    def __init__(
        self, max_items: int = 10_000, ttl_seconds: float = 1800.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items: OrderedDict[str, tuple[float, Context]] = OrderedDict()
        self._max = max_items
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, key: str) -> Context | None:
        """The context for ``key`` if it has not expired."""
        entry = self._items.get(key)
        if entry is None:
            return None
        stamp, context = entry
        if self._clock() - stamp > self._ttl:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return context

    def put(self, key: str, context: Context) -> None:
        """Store ``context`` under ``key``, evicting the least recently used beyond the bound."""
        self._items[key] = (self._clock(), context)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
