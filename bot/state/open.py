"""Choose the store once at start: Redis when REDIS_URL is set, else process memory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.config import Config, ConfigError
from bot.state.base import State
from bot.state.memory import MemoryState

log = logging.getLogger("resbot.state")

URL_VARIABLE = "REDIS_URL"
PREFIX_VARIABLE = "REDIS_KEY_PREFIX"


def _setting(config: Config, key: str, default: float) -> float:
    """A number from the ``state:`` section; ConfigError naming it when malformed."""
    raw = config.get("state", key, default)
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"config state.{key} must be a number, got {raw!r}") from None


def open_state(config: Config, clock: Callable[[], float] = time.monotonic) -> State:
    """The configured store; with REDIS_URL, Redis answered a PING or this raises ConfigError.

    ``state.fallback_to_memory: true`` turns an unreachable Redis into a warning and memory.
    """
    url = config.secret(URL_VARIABLE)
    memory = MemoryState(clock, int(_setting(config, "context_max_items", 10_000)))
    if url is None:
        log.info("shared state: in process memory (REDIS_URL is not set)")
        return memory
    from bot.state.redis_store import RedisSettings, RedisState, make_pool, redacted

    settings = RedisSettings(
        url=url,
        prefix=config.secret(PREFIX_VARIABLE) or str(config.get("state", "key_prefix", "resbot:")),
        timeout=_setting(config, "timeout_seconds", 0.5),
        max_connections=int(_setting(config, "max_connections", 256)),
        retry_seconds=_setting(config, "retry_seconds", 1.0),
        context_max_bytes=int(_setting(config, "context_max_bytes", 65_536)),
    )
    problem = ping(settings.url, settings.timeout)
    if problem is not None:
        if config.get("state", "fallback_to_memory", False):
            log.warning("REDIS_URL=%s: %s; state.fallback_to_memory is set, so state stays in this "
                        "process's memory", redacted(url), problem)
            return memory
        raise ConfigError(f"REDIS_URL={redacted(url)}: {problem} (unset REDIS_URL to keep state in "
                          "memory, or set state.fallback_to_memory: true)")
    log.info("shared state: Redis at %s, key prefix %r", redacted(url), settings.prefix)
    return RedisState(make_pool(settings), settings, clock)


def ping(url: str, timeout: float) -> str | None:
    """None when Redis at ``url`` answers PING within ``timeout``, else what went wrong."""
    import redis
    from redis.exceptions import RedisError

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    except ValueError as exc:
        return f"not a Redis URL ({exc})"
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        return f"cannot reach Redis ({type(exc).__name__}: {exc})"
    finally:
        client.close()
    return None
