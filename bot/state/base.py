"""What the channels need from shared state: dedupe, conversation contexts and counters.

Two implementations satisfy these protocols, one in process memory (bot.state.memory) and one in
Redis (bot.state.redis_store); bot.state.open_state chooses once at start. Channels only see the
protocols, so they never know which store they talk to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.context import Context


class Dedupe(Protocol):
    """Remembers keys for a while so a retried delivery is answered once."""

    async def first_time(self, key: str) -> bool:
        """True the first time ``key`` is offered within the window (atomically), False for a repeat."""

    async def forget(self, key: str) -> None:
        """Drop ``key`` so a later retry is treated as new (used when answering failed)."""


class ContextStore(Protocol):
    """One Context per conversation key, expiring after a quiet spell."""

    async def get(self, key: str) -> Context | None:
        """The live context for ``key`` (renewing its expiry), or None."""

    async def put(self, key: str, context: Context) -> None:
        """Remember ``context`` for ``key``."""


class Counter(Protocol):
    """Fixed-window counters, as rate limits use them."""

    async def incr(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Add one to ``key``'s count in its current window: (count so far, seconds until the window ends)."""


@dataclass(frozen=True, slots=True)
class Health:
    """Which store is in use and whether it answers: /healthz reports it."""

    store: str
    ok: bool
    detail: str = ""


ErrorHook = Callable[[str], None]


class State(Protocol):
    """One store for every piece of shared state, chosen at start."""

    kind: str

    def dedupe(self, namespace: str, ttl_seconds: float) -> Dedupe:
        """A dedupe set whose keys live ``ttl_seconds``, apart from other namespaces."""

    def contexts(self, namespace: str, ttl_seconds: float) -> ContextStore:
        """A context store whose entries expire ``ttl_seconds`` after their last use."""

    def counter(self, namespace: str) -> Counter:
        """A set of fixed-window counters."""

    def observe(self, on_error: ErrorHook) -> None:
        """Call ``on_error(operation)`` whenever an operation could not use the store."""

    async def check(self) -> Health:
        """The store's health, probing it at most about once a second."""

    async def aclose(self) -> None:
        """Release connections."""
