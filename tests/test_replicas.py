"""Two `resbot serve` processes on one Redis, driven as Slack would drive replicas behind a load balancer.

A retried event that lands on the other replica is answered once; a conversation started on one
continues on the other; Redis stopped mid-load and restarted loses no request, and dedupe and
contexts work again afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from bot.core import Core
from tests.fakes.redis_server import RedisProcess, delete_prefix, shared_url, unique_prefix
from tests.fakes.replicas import Replica, replica_env, start_replicas, write_config
from tests.fakes.slack_api import FakeSlackAPI, SlackCall
from tests.fakes.web_harness import json_body, mention_event, slack_headers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from traffic import distinct_questions

MODULE = pytest.mark.asyncio(loop_scope="module")
RATE_LIMIT = 5  # /api/ask questions per client a minute, on the replicas of the shared-Redis tests
_ids = itertools.count(1)
_channels = itertools.count(1)


class Pair:
    """Two replicas, the fake Slack API they post to, and a client."""

    def __init__(self, replicas: list[Replica], slack: FakeSlackAPI, client: httpx.AsyncClient) -> None:
        self.a, self.b = replicas
        self.slack = slack
        self.client = client

    async def event(self, replica: Replica, question: str, event_id: str, channel: str, retry: int = 0) -> None:
        """One signed Events API delivery (a retry carries X-Slack-Retry-Num), acknowledged with 200."""
        body = json_body(mention_event(question, event_id, channel=channel))
        headers = slack_headers(body, content_type="application/json")
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        reply = await self.client.post(replica.url + "/slack/events", content=body, headers=headers)
        assert reply.status_code == 200, reply.text

    async def slash(self, replica: Replica, text: str, channel: str = "C1") -> httpx.Response:
        """One signed slash command."""
        body = urlencode({"text": text, "team_id": "T1", "channel_id": channel, "user_id": "U1"}).encode()
        return await self.client.post(replica.url + "/slack/commands", content=body, headers=slack_headers(body))

    async def ask(self, replica: Replica, question: str, client: str, conversation: str = "") -> httpx.Response:
        """POST /api/ask as the web page does, from ``client`` as a load balancer reports it."""
        data = {"question": question, **({"conversation": conversation} if conversation else {})}
        return await self.client.post(replica.url + "/api/ask", json=data, headers={"X-Forwarded-For": client})

    def posts_to(self, channel: str) -> list[SlackCall]:
        """chat.postMessage calls to one channel."""
        return [c for c in self.slack.calls_of("chat.postMessage") if c.params.get("channel") == channel]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    """Two replicas on the machine's Redis under a prefix of their own."""
    url, prefix = shared_url(), unique_prefix()
    folder = tmp_path_factory.mktemp("replicas")
    async with FakeSlackAPI() as slack, httpx.AsyncClient(timeout=30) as client:
        config = write_config(folder, slack_api_url=slack.base_url, ask_rate_limit=RATE_LIMIT,
                              ask_rate_window_seconds=60, ask_rate_limit_loopback=True)
        replicas = await start_replicas(2, replica_env(config, url, prefix), folder, client)
        try:
            yield Pair(replicas, slack, client)
        finally:
            for replica in replicas:
                replica.stop()
            delete_prefix(url, prefix)


@MODULE
async def test_both_replicas_say_they_use_redis(pair: Pair) -> None:
    for replica in (pair.a, pair.b):
        assert (await pair.client.get(replica.url + "/healthz")).json() == {"status": "ok", "store": "redis"}
        assert "shared state: Redis at redis://127.0.0.1:6379/0" in replica.output()


@MODULE
async def test_a_retry_on_the_other_replica_is_answered_once(pair: Pair) -> None:
    channel = f"C{next(_channels)}"
    event_id = f"Ev{next(_ids)}"
    await pair.event(pair.a, "when is World Day?", event_id, channel)
    await pair.slack.wait_for("chat.postMessage")
    await pair.event(pair.b, "when is World Day?", event_id, channel, retry=1)
    await pair.event(pair.b, "when is World Day?", event_id, channel, retry=2)
    await pair.slack.settle()
    [post] = pair.posts_to(channel)
    assert "30 July" in json.dumps(post.params)


@MODULE
async def test_simultaneous_deliveries_to_both_replicas_are_answered_once_each(pair: Pair) -> None:
    channel = f"C{next(_channels)}"
    ids = [f"Ev{next(_ids)}" for _ in range(6)]
    await asyncio.gather(*(pair.event(r, "who sponsors it?", i, channel) for i in ids for r in (pair.a, pair.b)))
    await pair.slack.wait_for("chat.postMessage", len(pair.slack.calls_of("chat.postMessage")))
    await pair.slack.settle(quiet=0.5)
    assert len(pair.posts_to(channel)) == len(ids)


@MODULE
async def test_a_conversation_started_on_one_replica_continues_on_the_other(pair: Pair, core: Core) -> None:
    channel = f"C{next(_channels)}"
    cited = core.answer("who coordinates ICAT?").citations[0].id
    tail = " ".join(core.document.by_id[cited].text.split()[-8:])
    await pair.event(pair.a, "who coordinates ICAT?", f"Ev{next(_ids)}", channel)
    first = await _wait_posts(pair, channel, 1)
    assert tail not in json.dumps(first.params, ensure_ascii=False)  # the first answer quotes, not all of it
    await pair.event(pair.b, "show the full paragraph", f"Ev{next(_ids)}", channel)
    full = await _wait_posts(pair, channel, 2)
    assert tail in json.dumps(full.params, ensure_ascii=False)
    # Slash commands too: asked on B, followed up on A.
    reply = await pair.slash(pair.b, "who coordinates ICAT?", channel=channel)
    assert reply.status_code == 200 and tail not in reply.text
    reply = await pair.slash(pair.a, "show the full paragraph", channel=channel)
    assert reply.status_code == 200 and tail in reply.text


@MODULE
async def test_the_web_page_rate_limit_is_counted_across_both_replicas(pair: Pair) -> None:
    # The load balancer in front says who the client is (uvicorn trusts X-Forwarded-For from 127.0.0.1).
    statuses, last = [], None
    for n in range(RATE_LIMIT + 2):
        replica = (pair.a, pair.b)[n % 2]
        last = await pair.ask(replica, f"when is World Day? ({n})", client="203.0.113.7")
        statuses.append(last.status_code)
    assert statuses == [200] * RATE_LIMIT + [429, 429]
    assert last is not None and 1 <= int(last.headers["retry-after"]) <= 60
    other = await pair.ask(pair.b, "who sponsors it?", client="203.0.113.8")
    assert other.status_code == 200


@MODULE
async def test_a_web_page_conversation_continues_on_the_other_replica(pair: Pair, core: Core) -> None:
    cited = core.answer("who coordinates ICAT?").citations[0].id
    first = await pair.ask(pair.a, "who coordinates ICAT?", client="203.0.113.9")
    assert first.status_code == 200 and "in full" not in first.json()["text"]
    conversation = first.json()["conversation"]
    full = await pair.ask(pair.b, "show the full paragraph", client="203.0.113.9", conversation=conversation)
    assert full.status_code == 200 and f"({cited}), in full" in full.json()["text"]
    alone = await pair.ask(pair.b, "show the full paragraph", client="203.0.113.9")  # a new conversation
    assert alone.status_code == 200 and "in full" not in alone.json()["text"]


async def _wait_posts(pair: Pair, channel: str, count: int) -> SlackCall:
    """Wait (bounded) until ``channel`` has ``count`` posts; the last one."""
    async with asyncio.timeout(15):
        while len(pair.posts_to(channel)) < count:
            await asyncio.sleep(0.05)
    return pair.posts_to(channel)[-1]


# -- Redis stopped mid-load and restarted --------------------------------------------------------------

LOAD = 240
CONCURRENCY = 8


@pytest_asyncio.fixture(loop_scope="module")
async def fault_pair(tmp_path: Path) -> AsyncIterator[tuple[Pair, RedisProcess]]:
    """Two replicas on a private redis-server that the test stops and restarts."""
    redis = RedisProcess()
    redis.start()
    try:
        async with FakeSlackAPI() as slack, httpx.AsyncClient(timeout=30) as client:
            env = replica_env(write_config(tmp_path, slack_api_url=slack.base_url), redis.url, unique_prefix())
            replicas = await start_replicas(2, env, tmp_path, client)
            try:
                yield Pair(replicas, slack, client), redis
            finally:
                for replica in replicas:
                    replica.stop()
    finally:
        redis.close()


@MODULE
async def test_redis_stopped_mid_load_and_restarted_loses_no_request(
        fault_pair: tuple[Pair, RedisProcess]) -> None:
    pair, redis = fault_pair
    questions = distinct_questions(LOAD)
    statuses: list[int] = []
    answered: list[bool] = []
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(questions):
        queue.put_nowait(item)
    degraded_seen: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            index, question = queue.get_nowait()
            replica = (pair.a, pair.b)[index % 2]
            reply = await pair.slash(replica, question, channel=f"L{index % 5}")
            statuses.append(reply.status_code)
            answered.append(reply.status_code == 200 and bool(reply.json().get("text")))

    async def chaos() -> None:
        async with asyncio.timeout(120):
            while len(statuses) < LOAD // 4:
                await asyncio.sleep(0.01)
            redis.stop()
            while len(statuses) < LOAD // 2:
                await asyncio.sleep(0.05)
            degraded_seen.append((await pair.client.get(pair.a.url + "/healthz")).json()["status"])
            while len(statuses) < 3 * LOAD // 4:
                await asyncio.sleep(0.01)
            redis.start()

    await asyncio.gather(chaos(), *(worker() for _ in range(CONCURRENCY)))
    assert len(statuses) == LOAD
    assert sorted(set(statuses)) == [200]
    assert all(answered)
    assert degraded_seen == ["degraded"]
    for replica in (pair.a, pair.b):
        async with asyncio.timeout(15):
            while (await pair.client.get(replica.url + "/healthz")).json()["status"] != "ok":
                await asyncio.sleep(0.2)
        metrics = (await pair.client.get(replica.url + "/metrics")).text
        assert "resbot_store_errors_total{" in metrics
        assert "Traceback" not in replica.output()
    # Back to shared: a retry on the other replica is answered once, a conversation moves across.
    channel = f"C{next(_channels)}"
    event_id = f"Ev{next(_ids)}"
    await pair.event(pair.a, "when is World Day?", event_id, channel)
    await _wait_posts(pair, channel, 1)
    await pair.event(pair.b, "when is World Day?", event_id, channel, retry=1)
    await pair.slack.settle()
    assert len(pair.posts_to(channel)) == 1
    await pair.event(pair.b, "show the full paragraph", f"Ev{next(_ids)}", channel)
    full = await _wait_posts(pair, channel, 2)
    assert "in full" in json.dumps(full.params)
