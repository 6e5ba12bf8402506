"""The web app on a Redis store: /healthz and /metrics name it, and losing Redis loses no request."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot.state import open_state
from tests.fakes.redis_server import RedisProcess
from tests.fakes.web_harness import Stack, json_body, mention_event, running, sample, slack_headers
from tests.test_state_redis import redis_config

_ids = itertools.count(1)


@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    """A redis-server of the test's own, started."""
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def slash(st: Stack, text: str, channel: str = "C1") -> dict[str, object]:
    """One signed slash command; its JSON reply."""
    body = urlencode({"text": text, "team_id": "T1", "channel_id": channel, "user_id": "U1"}).encode()
    reply = await st.post("/slack/commands", content=body, headers=slack_headers(body))
    assert reply.status_code == 200, reply.text
    data: dict[str, object] = reply.json()
    return data


async def event(st: Stack, question: str, event_id: str) -> None:
    """One signed Events API delivery, acknowledged with 200."""
    body = json_body(mention_event(question, event_id))
    reply = await st.post("/slack/events", content=body, headers=slack_headers(body, content_type="application/json"))
    assert reply.status_code == 200


async def wait_health(st: Stack, status: str, timeout: float = 5.0) -> dict[str, object]:
    """Poll /healthz (bounded) until it reports ``status``."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = (await st.get("/healthz")).json()
        if body["status"] == status or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_two_apps_on_one_redis_answer_a_retried_event_once_and_share_contexts(
        private_redis: RedisProcess) -> None:
    config = redis_config(private_redis.url, "web:")
    async with running(state=open_state(config)) as a, running(state=open_state(config)) as b:
        assert (await a.get("/healthz")).json() == {"status": "ok", "store": "redis"}
        event_id = f"Ev{next(_ids)}"
        await event(a, "when is World Day?", event_id)
        await event(b, "when is World Day?", event_id)  # Slack's retry lands on the other replica
        await a.slack.wait_for("chat.postMessage")
        await asyncio.gather(a.slack.settle(), b.slack.settle())
        assert len(a.slack.calls_of("chat.postMessage")) + len(b.slack.calls_of("chat.postMessage")) == 1
        await slash(a, "first question", channel="C9")
        await slash(b, "and a follow-up", channel="C9")
        context = b.core.contexts[-1]
        assert context is not None and context.last.question == "first question"


async def test_losing_redis_degrades_health_counts_errors_and_answers_everything(
        private_redis: RedisProcess) -> None:
    config = redis_config(private_redis.url, "web:", retry_seconds=0.2, timeout_seconds=0.3)
    async with running(state=open_state(config)) as st:
        await slash(st, "before", channel="C2")
        private_redis.stop()
        replies = await asyncio.gather(*(slash(st, f"question {n}", channel="C2") for n in range(20)))
        assert all(str(r["text"]).startswith("You asked: question") for r in replies)
        assert st.core.contexts[-1] is None  # no context without Redis: a new question
        await event(st, "during the outage", "EvOut")
        await st.slack.wait_for("chat.postMessage")  # dedupe failed open: answered
        health = await wait_health(st, "degraded")
        assert health["status"] == "degraded" and health["store"] == "redis" and health["store_error"]
        metrics = (await st.get("/metrics")).text
        assert (sample(metrics, "resbot_store_errors_total", operation="context_get") or 0) >= 1
        assert sample(metrics, "resbot_store_errors_total", operation="dedupe") == 1

        private_redis.start()
        assert (await wait_health(st, "ok"))["status"] == "ok"
        await slash(st, "after", channel="C3")
        await slash(st, "follow-up after", channel="C3")
        context = st.core.contexts[-1]
        assert context is not None and context.last.question == "after"
