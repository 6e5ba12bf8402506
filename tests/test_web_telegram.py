"""POST /telegram: the webhook route in front of the Telegram frontend (GUIDE section 4)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio

from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegramAPI,
    edited_update,
    parse_html,
    sticker_update,
    text_update,
    utf16_len,
)
from tests.fakes.web_harness import (
    TELEGRAM_SECRET,
    Stack,
    cleared,
    full_env,
    plain_answer,
    running,
)

SECRET = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


@asynccontextmanager
async def telegram_stack(core: Any = None, **env: str) -> AsyncIterator[tuple[Stack, FakeTelegramAPI]]:
    """The app with its Telegram route built by create_app, talking to a fake Bot API."""
    async with FakeTelegramAPI() as fake:
        environ = full_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET, **env)
        async with running(core=core, env=environ, telegram={"base_url": fake.base_url}) as st:
            yield st, fake


TG = tuple[Stack, FakeTelegramAPI]
_uids = itertools.count(1000)
SHARED = pytest.mark.asyncio(loop_scope="module")  # tests that reuse the module's app


def uid() -> int:
    """A fresh update_id (the shared app remembers ids it has seen)."""
    return next(_uids)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_tg() -> AsyncIterator[tuple[Stack, FakeTelegramAPI]]:
    """One app and fake Bot API for the tests that need no special settings."""
    async with telegram_stack() as pair:
        yield pair


@pytest_asyncio.fixture(loop_scope="module")
async def tg(shared_tg: TG) -> tuple[Stack, FakeTelegramAPI]:
    """The shared app and fake with this test's records cleared."""
    st, fake = shared_tg
    fake.calls.clear()
    fake.events.clear()
    return cleared(st), fake


async def send(st: Stack, update: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    """POST one update as JSON with the right secret unless ``headers`` say otherwise."""
    reply = await st.post("/telegram", content=json.dumps(update).encode(),
                          headers={"Content-Type": "application/json", **(SECRET if headers is None
                                                                           else headers)})
    return reply.status_code


async def answered_sentinel(st: Stack, fake: FakeTelegramAPI) -> None:
    """Send one more message (from another chat) and wait for the bot's reply to it.

    The route drops rejected and duplicate updates before queueing, and PTB handles queued
    updates one at a time, so once the sentinel is answered every earlier update is done.
    """
    assert await send(st, text_update("sentinel", chat_id=5151, update_id=uid())) == 200
    async with asyncio.timeout(5):
        while not any(c.chat_id == 5151 for c in fake.calls_of("sendMessage")):
            await asyncio.sleep(0.01)


@SHARED
async def test_right_secret_200_and_processed_once(tg: TG) -> None:
    st, fake = tg
    assert await send(st, text_update("what is OP5", update_id=uid())) == 200
    await answered_sentinel(st, fake)
    call, _ = fake.calls_of("sendMessage")
    assert "You asked: what is OP5" in parse_html(call.text)[0]
    assert st.core.questions == ["what is OP5", "sentinel"]


@SHARED
@pytest.mark.parametrize("headers", [
    {}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
    {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET + "x"},
    {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET.upper()},
])
async def test_missing_or_wrong_secret_is_403_nothing_queued(tg: TG, headers: dict[str, str]) -> None:
    st, fake = tg
    assert await send(st, text_update("q", update_id=uid()), headers=headers) == 403
    await answered_sentinel(st, fake)
    assert len(fake.calls_of("sendMessage")) == 1
    assert st.core.questions == ["sentinel"]


@SHARED
@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_wrong_content_type_is_415(tg: TG, ctype: str) -> None:
    st, _fake = tg
    body = json.dumps(text_update("q", update_id=uid())).encode()
    headers = {**SECRET, "Content-Type": ctype} if ctype else SECRET
    reply = await st.post("/telegram", content=body, headers=headers)
    assert reply.status_code == 415
    assert st.core.questions == []


@SHARED
@pytest.mark.parametrize("body", [
    b"{", b"not json", b"\xff\xfe", b"", b"[]", b'{"foo": 1}', b'{"update_id": "1"}',
    b'{"update_id": true}', b'{"update_id": 1.5}', b'{"update_id": 13, "message": "x"}',
    b'{"update_id": 14, "message": {"foo": 1}}', b"[" * 10_000 + b"]" * 10_000,
])
async def test_malformed_or_non_update_json_is_400_not_500(tg: TG, body: bytes) -> None:
    st, _fake = tg
    reply = await st.post("/telegram", content=body,
                          headers={**SECRET, "Content-Type": "application/json"})
    assert reply.status_code == 400
    assert "error" in reply.json()
    assert st.core.questions == []


@SHARED
async def test_same_update_id_twice_one_answer(tg: TG) -> None:
    st, fake = tg
    update = text_update("what is OP5", update_id=uid())
    assert await send(st, update) == 200
    assert await send(st, update) == 200
    await answered_sentinel(st, fake)
    assert len(fake.calls_of("sendMessage")) == 2
    assert st.core.questions == ["what is OP5", "sentinel"]


@SHARED
async def test_user_html_is_escaped(tg: TG) -> None:
    st, fake = tg
    await send(st, text_update("<<b> & </code> <script>", update_id=uid()))
    (call,) = await fake.wait_for("sendMessage")
    assert call.status == 200  # the fake rejects unparsable HTML with 400
    assert "<<b> & </code> <script>" in parse_html(call.text)[0]
    assert "<script>" not in call.text


@SHARED
@pytest.mark.parametrize("size", [4097, 10_000])
async def test_long_answers_with_emoji_at_the_cut_fit_4096(tg: TG, size: int) -> None:
    st, fake = tg
    core = st.core
    # the emoji's two UTF-16 units straddle unit 4096
    text = "a" * 4095 + "\U0001f600" * ((size - 4095) // 2) + "a" * ((size - 4095) % 2)
    assert utf16_len(text) == size
    core.replies["long"] = plain_answer("long", text)
    await send(st, text_update("long", update_id=uid()))
    await answered_sentinel(st, fake)
    calls = fake.calls_of("sendMessage")
    assert len(calls) >= 3
    for call in calls:
        assert call.status == 200
        assert utf16_len(parse_html(call.text)[0]) <= 4096


@SHARED
@pytest.mark.parametrize("update", [edited_update("q"), sticker_update()])
async def test_edited_messages_and_stickers_ignored_or_hinted(tg: TG, update: dict[str, Any]) -> None:
    st, fake = tg
    assert await send(st, {**update, "update_id": uid()}) == 200
    await answered_sentinel(st, fake)
    assert st.core.questions == ["sentinel"]
    assert all(call.status == 200 for call in fake.calls)


async def test_webhook_url_registered_with_secret_at_start() -> None:
    async with telegram_stack(WEBHOOK_URL="https://bot.example.org") as (_st, fake):
        (call,) = fake.calls_of("setWebhook")
        assert call.params["url"] == "https://bot.example.org/telegram"
        assert call.params["secret_token"] == TELEGRAM_SECRET
        assert call.params["allowed_updates"] == ["message", "inline_query", "callback_query"]
        assert fake.calls_of("setMyCommands")


async def test_no_webhook_registration_without_webhook_url() -> None:
    async with telegram_stack() as (_st, fake):
        assert fake.calls_of("setWebhook") == []


@SHARED
async def test_body_over_limit_is_413(tg: TG) -> None:
    st, _fake = tg
    update = text_update("x" * 70_000, update_id=uid())
    assert await send(st, update) == 413
    assert st.core.questions == []


@pytest.mark.parametrize("env", [
    {}, {"TELEGRAM_BOT_TOKEN": TOKEN}, {"TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET},
])
async def test_route_disabled_without_token_and_secret(env: dict[str, str]) -> None:
    async with running(env=full_env(**env)) as st:
        assert await send(st, text_update("q", update_id=uid())) == 404


async def test_bot_api_down_at_start_gives_503_and_other_routes_live() -> None:
    env = full_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET)
    async with running(env=env, telegram={"base_url": "http://127.0.0.1:9/bot"}) as st:
        reply = await st.post("/telegram", content=json.dumps(text_update("q", update_id=uid())),
                              headers={**SECRET, "Content-Type": "application/json"})
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "5"
        assert (await st.get("/healthz")).status_code == 200


async def test_real_core_answers_through_webhook() -> None:
    from tests.test_web_generic import real_core

    async with telegram_stack(core=real_core()) as (st, fake):
        await send(st, text_update("what does OP5 say", update_id=uid()))
        (call,) = await fake.wait_for("sendMessage")
        assert "OP5" in parse_html(call.text)[0]


async def test_flood_limit_waits_and_retries_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error under filterwarnings=error) when RetryAfter.retry_after is an int;
    # opting in to timedelta values silences it and changes nothing resbot reads.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with telegram_stack() as (st, fake):
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await send(st, text_update("q", update_id=uid()))
        calls = await fake.wait_for("sendMessage", count=2, timeout=10)
        assert [c.status for c in calls] == [429, 200]
        assert calls[1].at - calls[0].at >= 1.0


async def test_blocked_by_user_is_not_retried() -> None:
    async with telegram_stack() as (st, fake):
        fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", times=5)
        await send(st, text_update("q", update_id=uid()))
        await answered_sentinel(st, fake)  # its reply is refused too, but the call is recorded
        assert len(fake.calls_of("sendMessage")) == 2
        assert (await st.get("/healthz")).status_code == 200
