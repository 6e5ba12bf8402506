"""The in-memory store: dedupe windows, context expiry and bounds, fixed-window counters."""

from __future__ import annotations

from bot.config import load_config
from bot.context import Context
from bot.state.memory import MemoryContexts, MemoryCounter, MemoryDedupe, MemoryState, SeenSet
from tests.fakes.web_harness import plain_answer


def test_dedupe_memory_lasts_the_configured_window_and_is_bounded() -> None:
    now = [0.0]
    seen = SeenSet(900, clock=lambda: now[0], max_items=3)
    assert seen.first_time("a")
    now[0] = 899
    assert not seen.first_time("a")
    now[0] = 901
    assert seen.first_time("a")
    for key in "bcd":
        assert seen.first_time(key)
    assert seen.first_time("a")  # evicted as the oldest of four
    assert int(load_config(environ={}).get("web", "event_dedupe_seconds")) >= 600


async def test_memory_dedupe_forgets_on_request() -> None:
    dedupe = MemoryDedupe(60)
    assert await dedupe.first_time("e1")
    assert not await dedupe.first_time("e1")
    await dedupe.forget("e1")
    assert await dedupe.first_time("e1")


async def test_contexts_expire_after_a_quiet_spell_and_reads_renew_them() -> None:
    now = [0.0]
    store = MemoryContexts(max_items=10, ttl_seconds=100, clock=lambda: now[0])
    context = Context(last=plain_answer("q", "a"))
    await store.put("k", context)
    now[0] = 90
    assert await store.get("k") is context  # renews: the expiry is now 190
    now[0] = 180
    assert await store.get("k") is context
    now[0] = 281
    assert await store.get("k") is None
    assert len(store) == 0


async def test_contexts_are_bounded_least_recently_used_first() -> None:
    store = MemoryContexts(max_items=2, ttl_seconds=100)
    for key in ("a", "b"):
        await store.put(key, Context(last=plain_answer(key, key)))
    assert await store.get("a") is not None  # "b" is now the least recently used
    await store.put("c", Context(last=plain_answer("c", "c")))
    assert len(store) == 2 and await store.get("b") is None and await store.get("a") is not None


async def test_counter_counts_within_a_window_then_starts_again() -> None:
    now = [0.0]
    counter = MemoryCounter(clock=lambda: now[0])
    assert await counter.incr("ip", 10) == (1, 10)
    now[0] = 4
    assert await counter.incr("ip", 10) == (2, 6)
    assert await counter.incr("other", 10) == (1, 10)
    now[0] = 10
    assert await counter.incr("ip", 10) == (1, 10)


async def test_memory_state_is_always_healthy_and_keeps_namespaces_apart() -> None:
    state = MemoryState()
    first, second = state.dedupe("one", 60), state.dedupe("two", 60)
    assert await first.first_time("x") and await second.first_time("x")
    health = await state.check()
    assert health.store == "memory" and health.ok
    await state.aclose()
