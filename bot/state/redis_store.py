"""The Redis store: every replica pointed at one Redis shares dedupe, contexts and counters.

Commands go through redis-py's asyncio connection pool: a bounded pool, a connect timeout, and one
deadline per pipeline. The commands issued in one turn of the event loop (under load, those of
every request whose answer was computed in that turn) go out as one pipeline: one write, replies
read in order. A connection whose replies were read in full is kept for the next pipeline; one that
failed, timed out or was cancelled midway is closed and handed back, never reused with a reply due.
(redis-py's full client adds a retry layer, an awaited metrics hook and an asyncio.wait_for
task per write; at two commands a request that was half of Redis's cost here.)

When Redis fails, no request does: each operation falls back (dedupe answers, contexts are none,
counters count in this process), the store is marked down for ``retry_seconds`` so requests stop
waiting on it, and the next operation after that tries Redis again on a fresh connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

try:  # redis-py 7+: a pool that is full raises this; older releases raise a plain ConnectionError
    from redis.exceptions import MaxConnectionsError
except ImportError:  # pragma: no cover - depends on the installed redis-py
    MaxConnectionsError = type("MaxConnectionsError", (RedisError,), {})  # type: ignore[misc,assignment]

from bot.context import Context
from bot.state.base import ContextStore, Counter, Dedupe, ErrorHook, Health
from bot.state.codec import decode_context, encode_context
from bot.state.memory import MemoryCounter

log = logging.getLogger("resbot.state")

FAULTS = (RedisError, OSError, asyncio.TimeoutError)
PROBE_SECONDS = 1.0  # /healthz pings Redis at most this often
MAX_PIPELINE = 128  # commands sent in one write at most
RECENT_CONTEXTS = 1024  # per process: the last contexts written or read, to skip decoding them again

# INCR, and give the key the window's expiry when it is new (or lost its expiry), in one atomic step.
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


def make_pool(settings: RedisSettings) -> ConnectionPool:
    """A bounded asyncio connection pool with a connect timeout; each command gets its own deadline.

    Redis Enterprise's maintenance notifications are off: plain Redis sends none, and they cost a
    quarter of each command's CPU here.
    """
    options: dict[str, Any] = {
        "max_connections": settings.max_connections, "socket_connect_timeout": settings.timeout,
        "socket_timeout": None,  # RedisState._command sets one deadline per command (no wait_for task per write)
        "health_check_interval": 0,
    }
    try:
        from redis.maint_notifications import MaintNotificationsConfig

        options["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    except ImportError:  # pragma: no cover - redis-py before 7 has no such notifications
        pass
    return ConnectionPool.from_url(settings.url, **options)


class RedisState:
    """Shared state in Redis, with per-operation fallbacks while Redis is away."""

    kind = "redis"

    def __init__(self, pool: ConnectionPool, settings: RedisSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pool = pool
        self.settings = settings
        self._clock = clock
        self._down_until = 0.0
        self._down = False
        self._last_error = ""
        self._checked_at = -PROBE_SECONDS
        self._hooks: list[ErrorHook] = []
        self._idle: list[Any] = []  # connections whose last reply was read in full, ready for the next command
        self._queue: list[_Pending] = []  # commands issued in this turn of the loop, not sent yet
        self._flushes: set[asyncio.Task[None]] = set()

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
            await self.run("ping", None, "PING")
        return Health("redis", not self._down, self._last_error if self._down else "")

    async def aclose(self) -> None:
        """Finish the pipelines queued or in flight (bounded by the timeout), then close every connection."""
        if self._queue:
            self._start_flushes()
        if self._flushes:
            await asyncio.wait(set(self._flushes), timeout=self.settings.timeout * 2)
        try:
            await self._release_idle()
            await self.pool.aclose()
        except FAULTS as exc:
            log.debug("closing the Redis pool: %s", exc)

    # -- running one command -------------------------------------------------------------------

    @property
    def up(self) -> bool:
        """False while Redis is marked down."""
        return not self._down

    def _key_prefix(self, namespace: str) -> str:
        return f"{self.settings.prefix}{namespace}:"

    async def run(self, op: str, fallback: Any, *args: Any) -> Any:
        """The reply to one command, or ``fallback`` when Redis fails or is marked down (counted, logged)."""
        if self._down and self._clock() < self._down_until:
            self._failed(op)
            return fallback
        try:
            reply = await self._command(args)
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
        return reply

    async def _command(self, args: tuple[Any, ...]) -> Any:
        """One command's reply, sent in one pipeline with the commands issued in the same turn of the loop.

        Under load, many requests reach Redis in one turn of the event loop (each after its answer
        is computed); one write and one read for all of them costs far less than a round trip each.
        """
        loop = asyncio.get_running_loop()
        pending = _Pending(args, loop.create_future())
        self._queue.append(pending)
        if len(self._queue) == 1:
            loop.call_soon(self._start_flushes)
        return await pending.reply

    def _start_flushes(self) -> None:
        """Send what is queued, at most MAX_PIPELINE commands to a pipeline, each on its own task."""
        queued, self._queue = self._queue, []
        for first in range(0, len(queued), MAX_PIPELINE):
            task = asyncio.get_running_loop().create_task(self._flush(queued[first:first + MAX_PIPELINE]))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[_Pending]) -> None:
        """Send ``batch`` in one write and settle each command's future with its reply, in order.

        A connection that fails before any reply came back is retried once on a fresh one: after a
        Redis restart the kept connections are dead, and nothing reached Redis on them. Once a reply
        came back, the rest are not sent again (a second SET NX would read as a duplicate).
        """
        for attempt in (1, 2):
            try:
                connection = await self._borrow()
            except BaseException as exc:  # the pool is full, or Redis refuses connections
                _settle_all(batch, exc)
                if not isinstance(exc, Exception):
                    raise
                return
            answered = 0
            try:
                async with asyncio.timeout(self.settings.timeout):
                    packed = connection.pack_commands([pending.args for pending in batch])
                    await connection.send_packed_command(packed, check_health=False)
                    for pending in batch:
                        await _read_into(connection, pending)
                        answered += 1
            except RedisConnectionError as exc:
                await self._discard(connection)
                await self._release_idle()  # opened to the same server, so probably broken too
                if attempt == 1 and answered == 0:
                    continue
                _settle_all(batch[answered:], exc)
                return
            except BaseException as exc:  # timeout, cancellation: never reuse mid-pipeline
                await self._discard(connection)
                _settle_all(batch[answered:], exc)
                if not isinstance(exc, Exception):
                    raise
                return
            self._idle.append(connection)
            return

    async def _borrow(self) -> Any:
        """A connection this store used last, else one from the pool (which connects and checks it).

        A connection goes back to ``_idle`` only after its reply was read in full, so it is clean;
        keeping it here instead of handing it back to the pool spares each command the pool's lock
        and bookkeeping, a fifth of a command's CPU. The pool still bounds how many exist.
        """
        if self._idle:
            return self._idle.pop()
        return await self.pool.get_connection()  # type: ignore[no-untyped-call]

    async def _discard(self, connection: Any) -> None:
        """Close ``connection`` and hand it back to the pool, which reconnects it before reuse."""
        try:
            await connection.disconnect(nowait=True)
        finally:
            await self.pool.release(connection)

    async def _release_idle(self) -> None:
        """Hand every kept connection back to the pool, which checks each one before reuse."""
        while self._idle:
            await self.pool.release(self._idle.pop())

    def _mark_down(self, exc: BaseException) -> None:
        """Skip Redis for ``retry_seconds``; log the first failure of an outage."""
        self._last_error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        self._down_until = self._clock() + self.settings.retry_seconds
        if not self._down:
            self._down = True
            log.warning("Redis at %s failed (%s): dedupe fails open, contexts are off, counters are "
                        "per process until it is back", redacted(self.settings.url), self._last_error)

    def _failed(self, op: str) -> None:
        for hook in self._hooks:
            hook(op)


@dataclass(slots=True)
class _Pending:
    """A command waiting to be sent, and the future its reply settles."""

    args: tuple[Any, ...]
    reply: asyncio.Future[Any]


async def _read_into(connection: Any, pending: _Pending) -> None:
    """Read the next reply on ``connection`` into ``pending``; an error reply settles it as that error."""
    try:
        reply = await connection.read_response()
    except ResponseError as exc:  # read in full: the connection is still in step
        _settle(pending, exc)
        return
    if not pending.reply.done():  # the request may have been cancelled meanwhile
        pending.reply.set_result(reply)


def _settle(pending: _Pending, exc: BaseException) -> None:
    """Fail ``pending`` with ``exc`` (cancel it for a cancellation), unless it is already settled."""
    if pending.reply.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        pending.reply.cancel()
    else:
        pending.reply.set_exception(exc)


def _settle_all(batch: list[_Pending], exc: BaseException) -> None:
    """Fail every command of ``batch`` still waiting with ``exc``."""
    for pending in batch:
        _settle(pending, exc)


_FAILED: Any = object()


class RedisDedupe:
    """SET key 1 NX PX ttl: atomic across replicas; fails open (the answer goes out) without Redis."""

    def __init__(self, state: RedisState, prefix: str, ttl_seconds: float) -> None:
        self._state = state
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))

    async def first_time(self, key: str) -> bool:
        """True when this replica set the key first (or Redis is away), False for a repeat."""
        reply = await self._state.run("dedupe", _FAILED, "SET", self._prefix + key, b"1", "NX", "PX", self._ttl_ms)
        if reply is _FAILED:
            log.warning("duplicate check for %s skipped: Redis unavailable; answering anyway", key)
            return True
        return reply is not None

    async def forget(self, key: str) -> None:
        """DEL the key so a later retry is answered."""
        await self._state.run("dedupe", 0, "DEL", self._prefix + key)


class RedisContexts:
    """Contexts as JSON with a TTL; GETEX renews the expiry as it reads."""

    def __init__(self, state: RedisState, prefix: str, ttl_seconds: float, max_bytes: int,
                 recent: int = RECENT_CONTEXTS) -> None:
        self._state = state
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._max_bytes = max_bytes
        self._recent: OrderedDict[str, tuple[bytes, Context]] = OrderedDict()
        self._recent_max = recent

    async def get(self, key: str) -> Context | None:
        """The stored context (expiry renewed), or None when absent, unreadable or Redis is away.

        When Redis holds exactly the bytes this process last wrote or read for ``key`` (the usual
        case: a conversation's next question lands where its last one did), the Context decoded
        then is reused instead of parsing the JSON again.
        """
        raw = await self._state.run("context_get", None, "GETEX", self._prefix + key, "PX", self._ttl_ms)
        if not isinstance(raw, bytes):
            return None
        known = self._recent.get(key)
        if known is not None and known[0] == raw:
            self._recent.move_to_end(key)
            return known[1]
        context = decode_context(raw)
        if context is not None:
            self._remember(key, raw, context)
        return context

    def _remember(self, key: str, raw: bytes, context: Context) -> None:
        """Keep the bytes and the Context of ``key`` (bounded, least recently used dropped)."""
        self._recent[key] = (raw, context)
        self._recent.move_to_end(key)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    async def put(self, key: str, context: Context) -> None:
        """SET the context with its TTL; one larger than ``max_bytes`` (or not encodable) is not kept."""
        try:
            value = encode_context(context)
        except (TypeError, ValueError) as exc:  # a new Answer field the codec cannot write yet
            log.warning("context for %s not kept: %s", key, exc)
            return
        if len(value) > self._max_bytes:
            log.info("context for %s not kept: %d bytes over the %d-byte bound", key, len(value), self._max_bytes)
            return
        if await self._state.run("context_put", None, "SET", self._prefix + key, value, "PX", self._ttl_ms):
            self._remember(key, value, context)


class RedisCounter:
    """Fixed windows counted in Redis; while Redis is away, this process counts alone."""

    def __init__(self, state: RedisState, prefix: str) -> None:
        self._state = state
        self._prefix = prefix
        self._local = MemoryCounter()

    async def incr(self, key: str, window_seconds: float) -> tuple[int, float]:
        """(count in the window, seconds left in it), counted across every replica."""
        window_ms = max(1, int(window_seconds * 1000))
        reply = await self._state.run("counter", None, "EVAL", COUNTER_SCRIPT, 1, self._prefix + key, window_ms)
        if not isinstance(reply, list) or len(reply) != 2:
            return self._local.incr_now(key, window_seconds)
        hits, ttl_ms = reply
        return int(hits), int(ttl_ms) / 1000.0
