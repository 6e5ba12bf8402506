"""Load in the suite, small and bounded: 300 concurrent signed slash commands on a real uvicorn.

No timings are asserted (they belong in benchmarks/webhook.py); only statuses and answers.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlencode

import httpx

from bot.context import Context
from bot.core import Core
from bot.model import Answer
from tests.fakes.web_harness import Stack, running, sample, scraped, slack_headers

CONCURRENT = 300
CAP = 8
QUESTIONS = ["when is World Day?", "who coordinates ICAT?", "what does OP5 say?", "list the sponsors",
             "what is the Global Plan of Action?", "", "x" * 2_000, "<!channel> \u202e hello 🙂"]


def command_body(i: int) -> bytes:
    """A slash command from its own channel, with one of a few questions."""
    return urlencode({"team_id": "T1", "channel_id": f"C{i}", "user_id": f"U{i % 7}", "command": "/resbot",
                      "text": QUESTIONS[i % len(QUESTIONS)]}).encode()


async def post_command(client: httpx.AsyncClient, st: Stack, i: int) -> httpx.Response:
    """POST the i-th signed slash command to the app under test."""
    body = command_body(i)
    return await client.post(st.server.url + "/slack/commands", content=body, headers=slack_headers(body))


async def test_300_concurrent_slash_commands_all_answered_no_5xx(core: Core) -> None:
    async with running(core=core) as st:
        limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            async with asyncio.timeout(60):
                replies = await asyncio.gather(*(post_command(client, st, i) for i in range(CONCURRENT)))
        assert [r.status_code for r in replies] == [200] * CONCURRENT
        assert all(r.json()["text"].strip() for r in replies)
        world_day = [r for i, r in enumerate(replies) if QUESTIONS[i % len(QUESTIONS)] == QUESTIONS[0]]
        assert all("30 July" in r.json()["text"] for r in world_day)
        metrics = (await st.get("/metrics")).text
        assert sample(metrics, "resbot_http_requests_total", route="/slack/commands", status="200") == CONCURRENT
        assert st.server.alive


class GatedCore:
    """The real core behind a gate: every answer waits (bounded) until the test opens it."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.gate = threading.Event()

    def answer(self, text: str, context: Context | None = None) -> Answer:
        """The real answer, once the gate is open (or after 20 s at the latest)."""
        self.gate.wait(timeout=20)
        return self.core.answer(text, context=context)

    def ready_answer(self, text: str, context: Context | None = None) -> Answer | None:
        """Nothing is ready before the gate opens: every request waits in answer()."""
        return None

    def is_quick(self, text: str) -> bool:
        """Never: a gated answer blocks, so it must wait on the core's thread."""
        return False

    def may_follow_up(self, text: str) -> bool:
        """As the real core says."""
        return self.core.may_follow_up(text)

    def help_text(self) -> str:
        """The real help text."""
        return self.core.help_text()

    def examples(self) -> list[str]:
        """The real example questions."""
        return self.core.examples()


async def test_over_the_concurrency_cap_the_excess_gets_503_with_retry_after(core: Core) -> None:
    gated = GatedCore(core)
    async with running(core=gated, max_concurrency=CAP) as st:
        limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            tasks = [asyncio.create_task(post_command(client, st, i)) for i in range(CONCURRENT)]
            try:
                async with asyncio.timeout(30):  # CAP requests hold the slots; all others are refused
                    while sum(t.done() for t in tasks) < CONCURRENT - CAP:
                        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED, timeout=1)
                refused = [t.result() for t in tasks if t.done()]
                assert {r.status_code for r in refused} == {503}
                assert all(r.headers["retry-after"] == "1" and r.json()["error"] for r in refused)
                # A new connection: the pooled ones may have idled past the server's keep-alive (5 s) by now.
                async with httpx.AsyncClient(timeout=30) as fresh:
                    assert (await fresh.get(st.server.url + "/healthz")).status_code == 503  # still full
            finally:
                gated.gate.set()
            async with asyncio.timeout(30):
                replies = await asyncio.gather(*tasks)
        statuses = [r.status_code for r in replies]
        assert statuses.count(200) == CAP and statuses.count(503) == CONCURRENT - CAP
        assert all(r.json()["text"].strip() for r in replies if r.status_code == 200)
        assert (await st.get("/healthz")).status_code == 200  # slots freed once answers are out
        metrics = (await st.get("/metrics")).text
        assert not [key for key in scraped(metrics) if ("status", "500") in key[1]]
