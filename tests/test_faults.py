"""Faults: the fake Slack Web API and fake Telegram Bot API answer 500, 429 or hang past the timeout.

The bot retries with backoff a bounded number of times and every question is answered exactly
once; past the bound it gives up (and a Slack retry of the same event is then answered once).
SIGTERM to `resbot serve`'s uvicorn lets requests already in flight finish.
Every wait is bounded; no timings are asserted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.channels.telegram import ALLOWED_UPDATES, TelegramApp, build_application
from bot.channels.web import create_app
from bot.core import Core
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import Call, FakeTelegramAPI, parse_html, text_update
from tests.fakes.web_harness import (
    SIGNING_SECRET,
    LiveServer,
    free_socket,
    full_env,
    json_body,
    make_config,
    mention_event,
    slack_headers,
)

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 1  # seconds the bot waits for one platform call in these tests
HANG = 4.0  # a hanging fake answers only after this long (well past TIMEOUT)
WAIT = 20.0  # bound on waiting for an answer that needs retries
RETRIES = 2  # the bot's default number of retries (slack.RETRIES, telegram network_retries)

# Fault scripts within the retry bound (answered once) and one past it (given up).
WITHIN = [("500",), ("429",), ("hang",)]
PAST = ("500", "500", "500")


# -- a fake Slack Web API with HTTP-level faults ----------------------------------------------------

class FaultySlackAPI(FakeSlackAPI):
    """FakeSlackAPI whose next calls can answer 500, 429 (Retry-After), 404 or hang, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.script: list[str] = []
        self.faulted: list[tuple[str, str]] = []  # (method or response name, fault) per failed attempt

    async def _api(self, request: Request) -> JSONResponse:
        if self.script:
            return await self._fault(request.path_params["method"])
        return await super()._api(request)

    async def _response(self, request: Request) -> JSONResponse:
        if self.script:
            return await self._fault("response:" + request.path_params["name"])
        return await super()._response(request)

    async def _fault(self, target: str) -> JSONResponse:
        """Answer the way the next scripted fault says (recorded as a failed attempt)."""
        fault = self.script.pop(0)
        self.faulted.append((target, fault))
        if fault == "hang":
            await asyncio.sleep(HANG)
            return JSONResponse({"ok": False, "error": "too_late"}, 504)
        if fault == "429":
            return JSONResponse({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "1"})
        status = int(fault)
        return JSONResponse({"ok": False, "error": f"http_{status}"}, status)

    def failed(self, target: str) -> list[str]:
        """The faults one target answered with, in order."""
        return [fault for name, fault in self.faulted if name == target]


@dataclass
class SlackStack:
    """The app on uvicorn, its faulty fake Slack API and a client."""

    server: LiveServer
    slack: FaultySlackAPI
    client: httpx.AsyncClient

    async def post(self, path: str, body: bytes, content_type: str) -> httpx.Response:
        """A signed POST to the app."""
        return await self.client.post(self.server.url + path, content=body,
                                      headers=slack_headers(body, content_type=content_type))


class ThreadedCore:
    """The real core, every answer of it on the core's thread (as a long question's is)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def is_quick(self, text: str) -> bool:
        """Never: the sync window must be able to run out."""
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.core, name)


@asynccontextmanager
async def slack_stack(core: Core) -> AsyncIterator[SlackStack]:
    """The real app and core with Slack calls going to the faulty fake, TIMEOUT s per call."""
    slack = FaultySlackAPI()
    await slack.start()
    try:
        config = make_config(full_env(), slack_api_url=slack.base_url, slack_timeout_seconds=TIMEOUT,
                             slack_sync_seconds=0)
        async with LiveServer(create_app(config, ThreadedCore(core))) as server, \
                httpx.AsyncClient(timeout=30) as client:
            yield SlackStack(server, slack, client)
    finally:
        await slack.stop()


async def logged(caplog: pytest.LogCaptureFixture, text: str, count: int = 1) -> None:
    """Wait (bounded) until ``text`` was logged ``count`` times: the bot has given up."""
    async with asyncio.timeout(WAIT):
        while sum(text in r.getMessage() for r in caplog.records) < count:
            await asyncio.sleep(0.05)


def mention(question: str, event_id: str) -> bytes:
    """An app_mention event asking ``question``."""
    return json_body(mention_event(question, event_id))


@pytest.mark.parametrize("faults", WITHIN, ids="-".join)
async def test_slack_post_message_retried_then_answered_once(core: Core, faults: tuple[str, ...]) -> None:
    async with slack_stack(core) as st:
        st.slack.script = list(faults)
        reply = await st.post("/slack/events", mention("when is World Day?", f"Ev{'-'.join(faults)}"),
                              "application/json")
        assert reply.status_code == 200
        (call,) = await st.slack.wait_for("chat.postMessage", timeout=WAIT)
        await st.slack.settle(quiet=0.3, timeout=WAIT)
        assert len(st.slack.calls_of("chat.postMessage")) == 1
        assert "30 July" in call.params["text"]
        assert st.slack.failed("chat.postMessage") == list(faults)


async def test_slack_post_message_gives_up_after_the_bound_then_slack_retry_answers_once(
        core: Core, caplog: pytest.LogCaptureFixture) -> None:
    async with slack_stack(core) as st:
        st.slack.script = list(PAST)
        body = mention("when is World Day?", "EvPast")
        assert (await st.post("/slack/events", body, "application/json")).status_code == 200
        await logged(caplog, "chat.postMessage to C1 failed")
        assert st.slack.failed("chat.postMessage") == list(PAST)  # 1 try + RETRIES, no more
        assert st.slack.calls_of("chat.postMessage") == []
        # Slack delivers the event again (X-Slack-Retry-Num); the failed id was forgotten, so it is answered.
        retry = await st.client.post(st.server.url + "/slack/events", content=body, headers={
            **slack_headers(body, content_type="application/json"), "X-Slack-Retry-Num": "1"})
        assert retry.status_code == 200
        await st.slack.wait_for("chat.postMessage", timeout=WAIT)
        await st.slack.settle(quiet=0.3, timeout=WAIT)
        assert len(st.slack.calls_of("chat.postMessage")) == 1


_FRESH = itertools.count(1_001)


def fresh_question() -> str:
    """"when is World Day?", capitalised so that no earlier test has memoised it ("WHen is world day?", ...).

    A memoised answer is returned inline, so only a fresh question exercises the response_url path.
    The memo keeps a question's case (final question marks, by contrast, are folded into one).
    """
    n = next(_FRESH)
    letters = iter(range(64))
    return "".join(ch.upper() if ch.isalpha() and n >> next(letters) & 1 else ch for ch in "when is world day") + "?"


def slash(question: str, response_url: str) -> bytes:
    """A slash command whose late answer goes to ``response_url``."""
    return urlencode({"team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/resbot",
                      "text": question, "response_url": response_url}).encode()


@pytest.mark.parametrize("faults", WITHIN, ids="-".join)
async def test_response_url_post_retried_then_answered_once(core: Core, faults: tuple[str, ...]) -> None:
    async with slack_stack(core) as st:
        st.slack.script = list(faults)
        name = "-".join(faults)
        reply = await st.post("/slack/commands", slash(fresh_question(), st.slack.response_url(name)),
                              "application/x-www-form-urlencoded")
        assert reply.status_code == 200  # acknowledged at once (sync window 0 s), answer follows
        (call,) = await st.slack.wait_for(f"response:{name}", timeout=WAIT)
        await st.slack.settle(quiet=0.3, timeout=WAIT)
        assert len(st.slack.calls_of(f"response:{name}")) == 1
        assert "30 July" in call.params["text"]
        assert st.slack.failed(f"response:{name}") == list(faults)


@pytest.mark.parametrize(("faults", "tries"), [(PAST, 3), (("404",), 1)], ids=["5xx-past-bound", "404-not-retried"])
async def test_response_url_gives_up_after_the_bound_or_at_once_on_4xx(
        core: Core, caplog: pytest.LogCaptureFixture, faults: tuple[str, ...], tries: int) -> None:
    async with slack_stack(core) as st:
        st.slack.script = list(faults)
        await st.post("/slack/commands", slash(fresh_question(), st.slack.response_url("gone")),
                      "application/x-www-form-urlencoded")
        await logged(caplog, "response_url post failed")
        assert st.slack.failed("response:gone") == list(faults)[:tries]
        assert st.slack.calls_of("response:gone") == []


# -- a fake Telegram Bot API that can hang ------------------------------------------------------------

class HangingTelegramAPI(FakeTelegramAPI):
    """FakeTelegramAPI whose next ``hangs[method]`` calls answer only after HANG seconds (with a 504)."""

    def __init__(self) -> None:
        super().__init__()
        self.hangs: dict[str, int] = {}

    async def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.hangs.get(method, 0) > 0:
            self.hangs[method] -= 1
            await asyncio.sleep(HANG)
            return 504, {"ok": False, "error_code": 504, "description": "Gateway Timeout"}
        return await super()._answer(method, params)


def delivered(calls: list[Call]) -> list[Call]:
    """sendMessage calls the fake completed and accepted."""
    return [c for c in calls if c.status == 200 and c.result is not None]


@pytest.fixture
async def tg_fake() -> AsyncIterator[HangingTelegramAPI]:
    api = HangingTelegramAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def tg_app(tg_fake: HangingTelegramAPI, core: Core, monkeypatch: pytest.MonkeyPatch,
                 ) -> AsyncIterator[TelegramApp]:
    """The polling Telegram app with the real core, TIMEOUT s per Bot API call."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22 warns inside RetryAfter() without this opt-in
    config = make_config({}, telegram={"request_timeout": TIMEOUT})
    app = build_application(config, core, token=tg_fake.token, base_url=tg_fake.base_url)
    assert app.updater is not None
    async with asyncio.timeout(15):
        await app.initialize()
        await app.updater.start_polling(timeout=1, allowed_updates=list(ALLOWED_UPDATES))
        await app.start()
    try:
        yield app
    finally:
        async with asyncio.timeout(15):
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


def script_telegram(fake: HangingTelegramAPI, faults: tuple[str, ...]) -> None:
    """Make the next sendMessage calls fail as ``faults`` say (hangs come first, then errors)."""
    for fault in faults:
        if fault == "hang":
            fake.hangs["sendMessage"] = fake.hangs.get("sendMessage", 0) + 1
        elif fault == "429":
            fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        else:
            fake.fail("sendMessage", int(fault), "Internal Server Error")


@pytest.mark.parametrize("faults", WITHIN, ids="-".join)
async def test_telegram_send_retried_then_answered_once(
        tg_app: TelegramApp, tg_fake: HangingTelegramAPI, faults: tuple[str, ...]) -> None:
    script_telegram(tg_fake, faults)
    tg_fake.push(text_update("when is World Day?"))
    async with asyncio.timeout(WAIT):
        while not delivered(tg_fake.calls_of("sendMessage")):
            await tg_fake.wait_for("sendMessage", len(tg_fake.calls_of("sendMessage")) + 1, timeout=WAIT)
    await tg_fake.settle(quiet=0.3, timeout=WAIT)
    (answer,) = delivered(tg_fake.calls_of("sendMessage"))
    assert "30 July" in parse_html(answer.text)[0]
    assert len(tg_fake.calls_of("sendMessage")) == len(faults) + 1


async def test_telegram_gives_up_after_the_bound_and_keeps_answering(
        tg_app: TelegramApp, tg_fake: HangingTelegramAPI, caplog: pytest.LogCaptureFixture) -> None:
    script_telegram(tg_fake, PAST)
    tg_fake.push(text_update("when is World Day?"))
    await logged(caplog, "Telegram API error")
    assert [c.status for c in tg_fake.calls_of("sendMessage")] == [500] * len(PAST)  # 1 try + 2 retries
    tg_fake.push(text_update("who coordinates ICAT?"))  # the bot is still there for the next question
    await tg_fake.wait_for("sendMessage", len(PAST) + 1, timeout=WAIT)
    assert len(delivered(tg_fake.calls_of("sendMessage"))) == 1


# -- SIGTERM with requests in flight ------------------------------------------------------------------

SERVE_SLOW = """
import sys, time
import uvicorn
from bot.channels.web import create_app, server_config
from tests.fakes.web_harness import ScriptedCore, make_config

class SlowCore(ScriptedCore):
    def answer(self, text, context=None):
        time.sleep(float(sys.argv[2]))
        return super().answer(text, context)

    def is_quick(self, text):
        return False

app = create_app(make_config({"SLACK_SIGNING_SECRET": sys.argv[3]}), SlowCore())

async def announcing(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/slack/commands":
        print("received", flush=True)
    await app(scope, receive, send)

uvicorn.Server(server_config(announcing, "127.0.0.1", int(sys.argv[1]))).run()
"""


def read_until(proc: subprocess.Popen[bytes], needle: bytes, count: int, timeout: float) -> bytes:
    """Read the process's output until ``needle`` was seen ``count`` times (bounded in time)."""
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while seen.count(needle) < count:
        left = deadline - time.monotonic()
        assert left > 0, seen.decode(errors="replace")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65_536)
            assert chunk, seen.decode(errors="replace")  # the process ended early
            seen += chunk
    return seen


async def test_sigterm_lets_in_flight_requests_finish() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([sys.executable, "-c", SERVE_SLOW, str(port), "0.8", SIGNING_SECRET],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            async with asyncio.timeout(60):
                while True:
                    assert proc.poll() is None
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)

            async def ask(i: int) -> httpx.Response:
                body = urlencode({"team_id": "T1", "channel_id": f"C{i}", "user_id": "U1",
                                  "text": f"question {i}"}).encode()
                return await client.post(f"http://127.0.0.1:{port}/slack/commands", content=body,
                                         headers=slack_headers(body))

            tasks = [asyncio.create_task(ask(i)) for i in range(3)]
            output = await asyncio.to_thread(read_until, proc, b"received", 3, 30)
            proc.send_signal(signal.SIGTERM)  # all three are inside the app; answers take 0.8 s each, in turn
            async with asyncio.timeout(30):
                replies = await asyncio.gather(*tasks)
        assert [r.status_code for r in replies] == [200, 200, 200]
        assert [json.loads(r.text)["text"] for r in replies] == [f"You asked: question {i}" for i in range(3)]
        rest, _ = await asyncio.to_thread(proc.communicate, timeout=30)
        output += rest
        assert proc.returncode in (0, -signal.SIGTERM), output.decode(errors="replace")
        assert b"Application shutdown complete" in output and b"Traceback" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
