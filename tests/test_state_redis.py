"""The Redis store against a real Redis: atomic dedupe, shared contexts and counters, and its faults.

The shared-state tests use the machine's Redis on 127.0.0.1:6379 under a key prefix of their own;
the fault tests start a private redis-server they can stop and restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from bot.config import ConfigError
from bot.context import Context
from bot.state import State, open_state
from bot.state.memory import MemoryState
from bot.state.redis_store import RedisState, redacted
from tests.fakes.redis_server import RedisProcess, delete_prefix, shared_url, unique_prefix
from tests.fakes.web_harness import make_config, plain_answer


def redis_config(url: str, prefix: str, **state: Any) -> Any:
    """The project config with REDIS_URL, a key prefix and ``state:`` overrides.

    The timeout is generous unless a test sets its own: on a machine busy with other test
    processes, connecting can take longer than the default half second, and a timeout would make
    dedupe fail open (by design), which the tests of atomicity must not mistake for a bug.
    """
    config = make_config({"REDIS_URL": url, "REDIS_KEY_PREFIX": prefix})
    data = dict(config.data)
    data["state"] = {**dict(config.section("state")), "timeout_seconds": 5.0, **state}
    return type(config)(data=data, root=config.root, environ=config.environ)


@pytest.fixture
def shared() -> Iterator[tuple[str, str]]:
    """(URL, prefix) on the machine's Redis; the prefix's keys are deleted afterwards."""
    url, prefix = shared_url(), unique_prefix()
    yield url, prefix
    delete_prefix(url, prefix)


@pytest_asyncio.fixture
async def replicas(shared: tuple[str, str]) -> AsyncIterator[tuple[State, State]]:
    """Two independent stores on one Redis, as two replicas would open them."""
    first, second = (open_state(redis_config(*shared)) for _ in range(2))
    assert first.kind == second.kind == "redis"
    yield first, second
    await asyncio.gather(first.aclose(), second.aclose())


async def test_dedupe_is_atomic_across_replicas(replicas: tuple[State, State]) -> None:
    a, b = (state.dedupe("events", 60) for state in replicas)
    claims = await asyncio.gather(*(d.first_time("Ev1") for d in (a, b) * 10))
    assert sorted(claims) == [False] * 19 + [True]
    await b.forget("Ev1")
    assert await a.first_time("Ev1")


async def test_dedupe_keys_expire_and_namespaces_stay_apart(replicas: tuple[State, State]) -> None:
    # Expiries of seconds, not tenths: on a loaded CI machine one Redis round trip can take 100 ms.
    a = replicas[0].dedupe("events", 1.0)
    other = replicas[1].dedupe("updates", 1.0)
    assert await a.first_time("1") and await other.first_time("1")
    assert not await a.first_time("1")
    await asyncio.sleep(1.6)
    assert await a.first_time("1")


async def test_contexts_are_shared_expire_and_are_bounded(shared: tuple[str, str]) -> None:
    url, prefix = shared
    a = open_state(redis_config(url, prefix, context_max_bytes=2000))
    b = open_state(redis_config(url, prefix, context_max_bytes=2000))
    try:
        # Expiries of seconds with wide margins: a loaded CI machine must not turn timing into failures.
        store_a, store_b = a.contexts("contexts", 2.0), b.contexts("contexts", 2.0)
        context = Context(last=plain_answer("when is World Day?", "30 July"))
        await store_a.put("slack:T1:C1", context)
        assert await store_b.get("slack:T1:C1") == context
        assert await store_b.get("slack:T1:C2") is None
        await asyncio.sleep(1.2)
        assert await store_a.get("slack:T1:C1") == context  # the read renewed the expiry
        await asyncio.sleep(1.2)  # 2.4 s after the put: only the renewal keeps it
        assert await store_b.get("slack:T1:C1") == context
        await asyncio.sleep(2.6)
        assert await store_b.get("slack:T1:C1") is None
        huge = Context(last=plain_answer("q", "x" * 5000))
        await store_a.put("slack:T1:C3", huge)
        assert await store_b.get("slack:T1:C3") is None
    finally:
        await asyncio.gather(a.aclose(), b.aclose())


async def test_counters_count_across_replicas_atomically(replicas: tuple[State, State]) -> None:
    a, b = (state.counter("rate") for state in replicas)
    results = await asyncio.gather(*(c.incr("client:1", 2) for c in (a, b) * 25))
    assert sorted(count for count, _ in results) == list(range(1, 51))
    assert all(0 < ttl <= 2 for _, ttl in results)
    assert (await a.incr("client:2", 2))[0] == 1
    await asyncio.sleep(2.1)
    count, ttl = await b.incr("client:1", 2)
    assert count == 1 and 1.5 < ttl <= 2


async def test_keys_live_under_the_configured_prefix(shared: tuple[str, str]) -> None:
    import redis.asyncio

    url, prefix = shared
    state = open_state(redis_config(url, prefix))
    try:
        await state.dedupe("events", 60).first_time("E9")
        await state.contexts("contexts", 60).put("k", Context(last=plain_answer("q", "a")))
        await state.counter("rate").incr("ip", 60)
    finally:
        await state.aclose()
    client = redis.asyncio.Redis.from_url(url)
    try:
        names = sorted([name async for name in client.scan_iter(match=prefix + "*")])
    finally:
        await client.aclose()
    assert names == [f"{prefix}{n}".encode() for n in ("contexts:k", "events:E9", "rate:ip")]


def test_unreachable_redis_at_start_is_one_clear_error_naming_redis_url() -> None:
    from tests.fakes.redis_server import free_port

    url = f"redis://user:s3cret@127.0.0.1:{free_port()}/0"  # nothing listens there
    with pytest.raises(ConfigError) as caught:
        open_state(redis_config(url, "x:", timeout_seconds=0.2))
    message = str(caught.value)
    assert message.startswith("REDIS_URL=redis://user:***@127.0.0.1:") and "cannot reach Redis" in message
    assert "s3cret" not in message and "\n" not in message
    with pytest.raises(ConfigError, match="REDIS_URL=http://x: not a Redis URL"):
        open_state(redis_config("http://x", "x:"))


def test_fallback_to_memory_when_configured(caplog: pytest.LogCaptureFixture) -> None:
    from tests.fakes.redis_server import free_port

    with caplog.at_level(logging.WARNING, logger="resbot.state"):
        state = open_state(redis_config(f"redis://127.0.0.1:{free_port()}/0", "x:", timeout_seconds=0.2,
                                        fallback_to_memory=True))
    assert isinstance(state, MemoryState)
    assert "fallback_to_memory is set" in caplog.text


def test_passwords_are_redacted() -> None:
    assert redacted("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redacted("rediss://me:pw@h:1/0") == "rediss://me:***@h:1/0"
    assert redacted("redis://token@h") == "redis://***@h"
    assert redacted("redis://h:6379/0") == "redis://h:6379/0"


# -- faults: a private redis-server that the test stops and restarts ---------------------------------

@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, started."""
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def test_redis_lost_while_running_falls_back_then_recovers(
        private_redis: RedisProcess, caplog: pytest.LogCaptureFixture) -> None:
    state = open_state(redis_config(private_redis.url, "f:", retry_seconds=0.2, timeout_seconds=0.3))
    assert isinstance(state, RedisState)
    errors: list[str] = []
    state.observe(errors.append)
    dedupe, contexts, counter = state.dedupe("events", 60), state.contexts("contexts", 60), state.counter("r")
    context = Context(last=plain_answer("q", "a"))
    try:
        assert await dedupe.first_time("E1") and not await dedupe.first_time("E1")
        await contexts.put("k", context)
        assert (await state.check()).ok and errors == []

        private_redis.stop()
        with caplog.at_level(logging.WARNING, logger="resbot.state"):
            assert await dedupe.first_time("E1")  # fails open: the event is answered
            assert await dedupe.first_time("E1")
            assert await contexts.get("k") is None  # no context: answered as a new question
            await contexts.put("k", context)  # dropped, no error
            assert [(await counter.incr("ip", 60))[0] for _ in range(3)] == [1, 2, 3]  # counted locally
            health = await state.check()
        assert not health.ok and health.store == "redis" and health.detail
        assert "dedupe fails open" in caplog.text and "duplicate check for E1 skipped" in caplog.text
        assert {"dedupe", "context_get", "context_put", "counter"} <= set(errors)

        private_redis.start()
        await asyncio.sleep(0.25)  # past retry_seconds: the next operation tries Redis again
        assert await dedupe.first_time("E2") and not await dedupe.first_time("E2")
        await contexts.put("k", context)
        assert await contexts.get("k") == context
        assert (await counter.incr("ip", 60))[0] == 1  # the restarted Redis kept nothing
        state_health = await state.check()
        assert state_health.ok
        assert "reachable again" in caplog.text
    finally:
        await state.aclose()


@pytest.mark.parametrize("command", ["serve", "telegram"])
def test_resbot_with_unreachable_redis_exits_with_one_line(command: str) -> None:
    import os
    import subprocess
    import sys

    from tests.fakes.redis_server import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "REDIS_"))}
    env.update(REDIS_URL=f"redis://:pw@127.0.0.1:{free_port()}/0", TELEGRAM_BOT_TOKEN="1:x")
    done = subprocess.run([sys.executable, "-m", "bot", command, "--port", "1"] if command == "serve"
                          else [sys.executable, "-m", "bot", command],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("resbot: REDIS_URL=redis://:***@127.0.0.1:"), done.stderr
    assert "pw" not in done.stderr.replace("***", "")


def test_without_redis_the_tests_skip_except_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes import redis_server

    monkeypatch.setattr(redis_server, "answers_ping", lambda port, host="127.0.0.1", timeout=0.5: False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no Redis server answers on 127\.0\.0\.1:6379"):
        redis_server.shared_url()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"Redis is required under CI=true"):
        redis_server.shared_url()
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="redis-server is not installed"):
        RedisProcess()


async def test_a_context_this_process_wrote_is_reused_unless_another_replica_changed_it(
        replicas: tuple[State, State]) -> None:
    a, b = (state.contexts("contexts", 60) for state in replicas)
    mine = Context(last=plain_answer("when is World Day?", "30 July"))
    await a.put("k", mine)
    assert await a.get("k") is mine  # the same bytes in Redis: no second decoding
    theirs = Context(last=plain_answer("who sponsors it?", "a list"))
    await b.put("k", theirs)
    seen = await a.get("k")
    assert seen == theirs and seen is not theirs  # changed elsewhere: read from Redis
    assert await a.get("k") is seen


@asynccontextmanager
async def watched(server: RedisProcess, prefix: str, **settings: Any) -> AsyncIterator[tuple[RedisState, Any]]:
    """A store on ``server`` and a plain client watching the same Redis; both closed afterwards."""
    import redis.asyncio

    state = open_state(redis_config(server.url, prefix, **settings))
    assert isinstance(state, RedisState)
    watcher = redis.asyncio.Redis.from_url(server.url)
    try:
        yield state, watcher
    finally:
        await watcher.aclose()
        await state.aclose()


async def test_sequential_commands_reuse_one_connection_and_a_timed_out_one_is_never_reused(
        private_redis: RedisProcess) -> None:
    async with watched(private_redis, "c:", timeout_seconds=0.5) as (state, watcher):
        contexts = state.contexts("contexts", 60)
        before = int((await watcher.info("stats"))["total_connections_received"])
        for n in range(50):
            await contexts.put(f"k{n}", Context(last=plain_answer(f"q{n}", "a")))
            assert await contexts.get(f"k{n}") is not None
        opened = int((await watcher.info("stats"))["total_connections_received"]) - before
        assert opened == 1  # one connection served 100 commands one after another

        # A reply still due when the deadline passed must not be read as the next command's reply.
        await watcher.execute_command("CLIENT", "PAUSE", "800", "ALL")
        assert await contexts.get("k1") is None  # timed out: no context, and Redis marked down
        await asyncio.sleep(1.3)  # the pause is over and so is retry_seconds
        assert await contexts.get("k2") == Context(last=plain_answer("q2", "a"))
        assert state.up


async def test_a_full_pool_makes_requests_go_without_but_does_not_mark_redis_down(
        private_redis: RedisProcess) -> None:
    async with watched(private_redis, "p:", max_connections=1) as (state, watcher):
        errors: list[str] = []
        state.observe(errors.append)
        contexts = state.contexts("contexts", 60)
        assert await contexts.get("warm") is None  # the one connection now exists
        await watcher.execute_command("CLIENT", "PAUSE", "400", "ALL")
        first = asyncio.create_task(contexts.get("a"))  # holds the only connection until the pause ends
        await asyncio.sleep(0.1)
        assert await contexts.get("b") is None and errors == ["context_get"]  # went without, at once
        assert await first is None
        assert state.up and (await state.check()).ok and errors == ["context_get"]


async def test_commands_issued_together_share_one_pipeline_and_each_gets_its_own_reply(
        private_redis: RedisProcess) -> None:
    async with watched(private_redis, "b:") as (state, watcher):
        contexts, counter = state.contexts("contexts", 60), state.counter("rate")
        stored = {f"k{n}": Context(last=plain_answer(f"q{n}", "a")) for n in range(200)}
        await asyncio.gather(*(contexts.put(key, context) for key, context in stored.items()))
        before = await watcher.info("stats")
        read = await asyncio.gather(*(contexts.get(key) for key in stored), contexts.get("absent"),
                                    *(counter.incr("ip", 60) for _ in range(5)))
        after = await watcher.info("stats")
        assert read[:200] == list(stored.values()) and read[200] is None
        assert sorted(count for count, _ in read[201:]) == [1, 2, 3, 4, 5]
        # 206 commands, yet a handful of socket reads on Redis's side: they came in one pipeline.
        assert after["total_reads_processed"] - before["total_reads_processed"] <= 10
        assert after["total_connections_received"] == before["total_connections_received"]


async def test_an_error_reply_or_a_cancelled_request_in_a_pipeline_leaves_the_others_their_replies(
        private_redis: RedisProcess) -> None:
    async with watched(private_redis, "e:") as (state, watcher):
        contexts = state.contexts("contexts", 60)
        stored = {f"k{n}": Context(last=plain_answer(f"q{n}", "a")) for n in range(6)}
        for key, context in stored.items():
            await contexts.put(key, context)
        await watcher.delete("e:contexts:k2")
        await watcher.rpush("e:contexts:k2", "not a string")  # GETEX on a list is an error reply
        tasks = [asyncio.create_task(contexts.get(key)) for key in stored]
        await asyncio.sleep(0)  # all six are queued in one pipeline
        tasks[4].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(done[4], asyncio.CancelledError)
        assert done[2] is None  # the error reply: no context, as when Redis is away
        assert [done[n] for n in (0, 1, 3, 5)] == [stored[f"k{n}"] for n in (0, 1, 3, 5)]


async def test_closing_sends_what_is_queued_first(private_redis: RedisProcess) -> None:
    async with watched(private_redis, "q:") as (state, watcher):
        contexts = state.contexts("contexts", 60)
        puts = [asyncio.create_task(contexts.put(f"k{n}", Context(last=plain_answer("q", "a")))) for n in range(5)]
        await asyncio.sleep(0)  # queued, not sent yet
        await state.aclose()
        await asyncio.gather(*puts)
        assert await watcher.exists(*(f"q:contexts:k{n}" for n in range(5))) == 5
