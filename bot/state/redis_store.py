"""The Redis store: every replica pointed at one Redis shares dedupe, contexts and counters.

Uses redis-py's asyncio client with a bounded connection pool and short timeouts. When Redis
fails, no request does: each operation falls back (dedupe answers, contexts are none, counters
count in this process), the store is marked down for ``retry_seconds`` so requests stop waiting
on it, and the next operation after that tries Redis again (the pool reconnects by itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

try:  # redis-py 7+: a pool that is full raises this; older releases raise a plain ConnectionError
    from redis.exceptions import MaxConnectionsError
except ImportError:  # pragma: no cover - depends on the installed redis-py
    MaxConnectionsError = type("MaxConnectionsError", (RedisError,), {})  # type: ignore[misc,assignment]

from bot.context import Context
from bot.state.base import ContextStore, Counter, Dedupe, ErrorHook, Health
from bot.state.codec import decode_context, encode_context
from bot.state.memory import MemoryCounter

log = logging.getLogger("resbot.state")

T = TypeVar("T")
FAULTS = (RedisError, OSError, asyncio.TimeoutError)
PROBE_SECONDS = 1.0  # /healthz pings Redis at most this often

# INCR and set the window's expiry when the key is new (or lost its expiry), in one atomic step.
COUNTER_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """How to reach Redis and how to behave when it fails."""

    url: str
    prefix: str = "resbot:"
    timeout: float = 0.5
    max_connections: int = 256
    retry_seconds: float = 1.0
    context_max_bytes: int = 65_536


def redacted(url: str) -> str:
    """``url`` without its password, for logs and errors."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in auth else f"{scheme}://***@{host}"


def make_client(settings: RedisSettings) -> Redis:
    """The asyncio client: a bounded connection pool, short timeouts, one immediate retry.

    A retry on a fresh connection is what makes the first command after a Redis restart succeed
    (the pooled connections died with the old server). Redis Enterprise's maintenance
    notifications are off: they cost a quarter of each command's CPU here and plain Redis sends none.
    """
    options: dict[str, Any] = {
        "max_connections": settings.max_connections, "socket_connect_timeout": settings.timeout,
        "socket_timeout": settings.timeout, "retry": Retry(NoBackoff(), 1), "health_check_interval": 0,
    }
    try:
        from redis.maint_notifications import MaintNotificationsConfig

        options["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    except ImportError:  # pragma: no cover - redis-py before 7 has no such notifications
        pass
    return Redis.from_url(settings.url, **options)


class RedisState:
    """Shared state in Redis, with per-operation fallbacks while Redis is away."""

    kind = "redis"

    def __init__(self, client: Redis, settings: RedisSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.settings = settings
        self._clock = clock
        self._down_until = 0.0
        self._down = False
        self._last_error = ""
        self._checked_at = -PROBE_SECONDS
        self._hooks: list[ErrorHook] = []
        self.counter_script = client.register_script(COUNTER_SCRIPT)

    # -- the State protocol ------------------------------------------------------------------

    def dedupe(self, namespace: str, ttl_seconds: float) -> Dedupe:
        """Dedupe with SET NX PX, keys under ``prefix + namespace``."""
        return RedisDedupe(self, self._key_prefix(namespace), ttl_seconds)

    def contexts(self, namespace: str, ttl_seconds: float) -> ContextStore:
        """Contexts as JSON strings with an expiry renewed on every read."""
        return RedisContexts(self, self._key_prefix(namespace), ttl_seconds,
                             self.settings.context_max_bytes)

    def counter(self, namespace: str) -> Counter:
        """Fixed-window counters (one Lua script: INCR, then PEXPIRE for a new window)."""
        return RedisCounter(self, self._key_prefix(namespace))

    def observe(self, on_error: ErrorHook) -> None:
        """Call ``on_error(operation)`` for each operation that fell back."""
        self._hooks.append(on_error)

    async def check(self) -> Health:
        """Ping Redis when the last probe is over a second old; report the state either way."""
        now = self._clock()
        if now - self._checked_at >= PROBE_SECONDS:
            self._checked_at = now
            await self.run("ping", self.client.ping, None)
        return Health("redis", not self._down, self._last_error if self._down else "")

    async def aclose(self) -> None:
        """Close the client and its pool."""
        try:
            await self.client.aclose()
        except FAULTS as exc:
            log.debug("closing the Redis client: %s", exc)

    # -- running one operation ----------------------------------------------------------------

    @property
    def up(self) -> bool:
        """False while Redis is marked down."""
        return not self._down

    def _key_prefix(self, namespace: str) -> str:
        return f"{self.settings.prefix}{namespace}:"

    async def run(self, op: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """``await call()``, or ``fallback`` when Redis fails or is marked down (counted, logged)."""
        if self._down and self._clock() < self._down_until:
            self._failed(op)
            return fallback
        try:
            result = await call()
        except MaxConnectionsError:
            self._failed(op)  # every pooled connection is busy: this request goes without, Redis is fine
            return fallback
        except FAULTS as exc:
            self._mark_down(exc)
            self._failed(op)
            return fallback
        if self._down:
            self._down = False
            log.warning("Redis is reachable again at %s: shared state restored", redacted(self.settings.url))
        return result

    def _mark_down(self, exc: BaseException) -> None:
        """Skip Redis for ``retry_seconds``; log the first failure of an outage."""
        self._last_error = f"{type(exc).__name__}: {exc}".strip()
        self._down_until = self._clock() + self.settings.retry_seconds
        if not self._down:
            self._down = True
            log.warning("Redis at %s failed (%s): dedupe fails open, contexts are off, counters are "
                        "per process until it is back", redacted(self.settings.url), self._last_error)

    def _failed(self, op: str) -> None:
        for hook in self._hooks:
            hook(op)


class RedisDedupe:
    """SET key 1 NX PX ttl: atomic across replicas; fails open (the answer goes out) without Redis."""

    def __init__(self, state: RedisState, prefix: str, ttl_seconds: float) -> None:
        self._state = state
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))

    async def first_time(self, key: str) -> bool:
        """True when this replica set the key first (or Redis is away), False for a repeat."""
        client = self._state.client
        name = self._prefix + key

        async def claim() -> Any:
            return await client.set(name, b"1", nx=True, px=self._ttl_ms)

        result = await self._state.run("dedupe", claim, _FAILED)
        if result is _FAILED:
            log.warning("duplicate check for %s skipped: Redis unavailable; answering anyway", key)
            return True
        return bool(result)

    async def forget(self, key: str) -> None:
        """DEL the key so a later retry is answered."""
        client = self._state.client
        await self._state.run("dedupe", lambda: client.delete(self._prefix + key), 0)


class RedisContexts:
    """Contexts as JSON with a TTL; GETEX renews the expiry as it reads."""

    def __init__(self, state: RedisState, prefix: str, ttl_seconds: float, max_bytes: int) -> None:
        self._state = state
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._max_bytes = max_bytes

    async def get(self, key: str) -> Context | None:
        """The stored context (expiry renewed), or None when absent, unreadable or Redis is away."""
        client = self._state.client
        name = self._prefix + key
        raw = await self._state.run("context_get", lambda: client.getex(name, px=self._ttl_ms), None)
        return decode_context(raw) if raw is not None else None

    async def put(self, key: str, context: Context) -> None:
        """SET the context with its TTL; one larger than ``max_bytes`` is not kept."""
        value = encode_context(context)
        if len(value) > self._max_bytes:
            log.info("context for %s not kept: %d bytes over the %d-byte bound", key, len(value), self._max_bytes)
            return
        client = self._state.client
        name = self._prefix + key
        await self._state.run("context_put", lambda: client.set(name, value, px=self._ttl_ms), None)


class RedisCounter:
    """Fixed windows counted in Redis; while Redis is away, this process counts alone."""

    def __init__(self, state: RedisState, prefix: str) -> None:
        self._state = state
        self._prefix = prefix
        self._local = MemoryCounter()

    async def incr(self, key: str, window_seconds: float) -> tuple[int, float]:
        """(count in the window, seconds left in it), counted across every replica."""
        window_ms = max(1, int(window_seconds * 1000))
        name = self._prefix + key
        script = self._state.counter_script

        async def count() -> Any:
            return await script(keys=[name], args=[window_ms])

        result = await self._state.run("counter", count, None)
        if result is None:
            return self._local.incr_now(key, window_seconds)
        hits, ttl_ms = result
        return int(hits), int(ttl_ms) / 1000.0


class _Failed:
    """Marks a fallback result."""


_FAILED: Any = _Failed()
