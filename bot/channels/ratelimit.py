"""Per-client rate limits: a fixed-window limiter over the shared state's counters.

The limiter needs only ``Counter.incr`` (bot.state): in process memory, or in Redis so that every
replica counts against the same limit.
"""

from __future__ import annotations

import ipaddress
import math

from bot.state.base import Counter

IPV6_PREFIX = 64  # one IPv6 client usually holds a whole /64: count it as one


class RateLimiter:
    """At most ``limit`` hits per key in each window of ``window_seconds`` (fixed windows)."""

    def __init__(self, store: Counter, limit: int, window_seconds: float) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_seconds > 0")
        self._store = store
        self._limit = limit
        self._window = window_seconds

    async def hit(self, key: str) -> tuple[bool, int]:
        """Count one request by ``key``: (True, 0) when allowed, else (False, seconds to wait)."""
        count, ttl = await self._store.incr(key, self._window)
        if count <= self._limit:
            return True, 0
        return False, max(1, math.ceil(ttl))


def client_key(host: str | None) -> str:
    """The key a client is counted under: its IPv4 address, its IPv6 /64, or the raw host name."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
