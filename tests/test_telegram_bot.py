"""The real PTB Application, polling a fake Bot API on 127.0.0.1, answering with the real core.

Updates go in through getUpdates; assertions are on the Bot API calls the fake recorded
(method, text, parse_mode, reply_markup). Every wait is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import CallbackContext

from bot.channels.telegram import (
    ALLOWED_UPDATES,
    COMMANDS,
    ERROR_NOTICE,
    NON_TEXT_HINT,
    TelegramApp,
    TelegramFrontend,
    build_application,
    main,
    paragraph_ref,
    run,
)
from bot.config import PROJECT_ROOT, Config, ConfigError
from bot.core import Core
from bot.model import Answer
from bot.render import telegram as render
from bot.render.split import utf16_len
from tests.fakes.telegram_api import (
    BOT_USERNAME,
    Call,
    FakeTelegramAPI,
    callback_update,
    edited_update,
    inline_update,
    message,
    parse_html,
    photo_update,
    sticker_update,
    text_update,
    visible_text,
)

GROUP = -1001234567890
# The ``config`` and ``core`` fixtures come from tests/conftest.py (the real answer core).


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def app(fake: FakeTelegramAPI, config: Config, core: Core) -> AsyncIterator[TelegramApp]:
    application = build_application(config, core, token=fake.token, base_url=fake.base_url)
    assert application.updater is not None
    async with asyncio.timeout(15):
        await application.initialize()
        assert application.post_init is not None
        await application.post_init(application)
        await application.updater.start_polling(timeout=1, allowed_updates=list(ALLOWED_UPDATES))
        await application.start()
    try:
        yield application
    finally:
        async with asyncio.timeout(15):
            await application.updater.stop()
            await application.stop()
            await application.shutdown()


async def exchange(fake: FakeTelegramAPI, update: dict[str, Any], method: str = "sendMessage",
                   count: int = 1, timeout: float = 10) -> list[Call]:
    """Deliver one update and return the ``count`` new calls of ``method`` it caused."""
    before = len(fake.calls_of(method))
    fake.push(update)
    calls = await fake.wait_for(method, before + count, timeout=timeout)
    return calls[before:before + count]


def shown(call: Call) -> str:
    """What the user sees of a sent message."""
    return visible_text(call.text, call.params.get("parse_mode"))


def frontend(app: TelegramApp) -> TelegramFrontend:
    value = app.bot_data["frontend"]
    assert isinstance(value, TelegramFrontend)
    return value


# -- commands ----------------------------------------------------------------------------------


async def test_start_registers_commands_and_clears_webhook(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    commands = fake.calls_of("setMyCommands")
    assert len(commands) == 1
    assert [c["command"] for c in commands[0].params["commands"]] == [n for n, _ in COMMANDS]
    assert fake.calls_of("getMe") and fake.calls_of("deleteWebhook")


async def test_start_greets_with_three_example_buttons(
    app: TelegramApp, fake: FakeTelegramAPI, core: Core,
) -> None:
    [call] = await exchange(fake, text_update("/start"))
    assert call.params["parse_mode"] == "HTML"
    assert call.text.startswith("<b>Hello!</b>")
    assert "draft resolution" in shown(call)
    assert [b["text"] for b in call.buttons] == core.examples()[:3]
    assert all(b["callback_data"].startswith(("q:", "x:")) for b in call.buttons)


async def test_help_lists_every_command(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    [call] = await exchange(fake, text_update("/help"))
    for name, _ in COMMANDS:
        assert f"/{name} - " in shown(call)


async def test_private_question_is_answered_with_citation_and_buttons(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [call] = await exchange(fake, text_update("when is World Day?"))
    assert call.status == 200 and call.params["parse_mode"] == "HTML"
    assert "30 July" in shown(call)
    assert "<b>Operative paragraph 5</b>\n<blockquote>" in call.text
    assert "(OP5)" in shown(call)
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert {"text": "Full paragraph", "callback_data": "f:OP5"} in call.buttons
    assert await frontend(app).store.get("telegram:4242") is not None  # follow-up memory kept


async def test_ask_in_group_quotes_the_question(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    update = text_update("/ask when is World Day?", chat_id=GROUP)
    [call] = await exchange(fake, update)
    assert "30 July" in shown(call)
    assert call.chat_id == GROUP
    assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    [addressed] = await exchange(fake, text_update(f"/ask@{BOT_USERNAME} who coordinates ICAT?",
                                                   chat_id=GROUP))
    assert "UNODC" in shown(addressed)


async def test_ask_without_question_gives_usage(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    [call] = await exchange(fake, text_update("/ask   "))
    assert "Please ask a question after /ask." in shown(call)
    assert "For example: /ask " in shown(call)


async def test_group_answers_only_mentions_and_replies(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    fake.push(text_update("when is World Day?", chat_id=GROUP))  # not addressed: ignored
    fake.push(text_update("/frobnicate", chat_id=GROUP))  # maybe another bot's: ignored
    mention = text_update(f"@{BOT_USERNAME} when is World Day?", chat_id=GROUP)
    [call] = await exchange(fake, mention)
    assert "30 July" in shown(call)
    assert call.params["reply_parameters"]["message_id"] == mention["message"]["message_id"]
    bot_message = message("earlier answer", chat_id=GROUP,
                          user={"id": 7000001, "is_bot": True, "first_name": "Resbot"})
    [reply] = await exchange(fake, text_update("who coordinates ICAT?", chat_id=GROUP,
                                               reply_to=bot_message))
    assert "UNODC" in shown(reply)
    await fake.settle()
    assert len(fake.calls_of("sendMessage")) == 2


@pytest.mark.parametrize(("command", "expected"), [
    ("/para 5", "to be observed annually"),
    ("/op 5", "to be observed annually"),
    ("/pp 8(c)", "To promote comprehensive, coordinated and consistent responses"),
    ("/footnote 1", "Resolution 70/1."),
    ("/para 99", "there is no operative paragraph 99"),
    ("/para five", "Usage: /para N, for example /para 5"),
    ("/footnote", "Usage: /footnote N, for example /footnote 11"),
])
async def test_document_lookups(app: TelegramApp, fake: FakeTelegramAPI, command: str,
                                expected: str) -> None:
    [call] = await exchange(fake, text_update(command))
    assert expected in shown(call)
    assert call.params["parse_mode"] == "HTML"


async def test_sponsors_and_about(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    [sponsors] = await exchange(fake, text_update("/sponsors"))
    assert "16 States" in shown(sponsors) and "Armenia" in shown(sponsors)
    [about] = await exchange(fake, text_update("/about"))
    assert "1 November 2017" in shown(about) and "Third Committee" in shown(about)


async def test_unknown_command_in_private_gets_a_hint(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [call] = await exchange(fake, text_update("/frobnicate"))
    assert "/help" in shown(call)


# -- escaping and splitting ------------------------------------------------------------------


@pytest.mark.parametrize("nasty", ["<", "&", "</code>", "<<b>", "<script>alert(1)</script>"])
async def test_user_text_is_escaped(app: TelegramApp, fake: FakeTelegramAPI, nasty: str) -> None:
    [call] = await exchange(fake, text_update(f"World Day {nasty}?"))
    assert call.status == 200  # the fake rejects what Telegram cannot parse
    [inline] = await exchange(fake, inline_update(f"World Day {nasty}"), "answerInlineQuery")
    first = inline.params["results"][0]["input_message_content"]
    assert inline.status == 200
    assert nasty in parse_html(first["message_text"])[0]  # echoed, and shown literally
    assert f"<i>World Day {html.escape(nasty)}</i>" in first["message_text"]


@pytest.mark.parametrize("size", [4097, 10_000])
async def test_long_answer_is_sent_in_pieces_with_emoji_at_the_cut(
    app: TelegramApp, fake: FakeTelegramAPI, size: int,
) -> None:
    # The core's answers are short; a hand-built long Answer exercises the send path.
    text = "a" * 4095 + "😀" + "b" * (size - 4097)
    long_answer = Answer(question="q", found=True, kind="what", text=text)
    update = Update.de_json(text_update("q") | {"update_id": 1}, app.bot)
    context = CallbackContext.from_update(update, app)
    reply = render.render_answer(long_answer)
    await frontend(app).send(update, context, reply)
    calls = fake.calls_of("sendMessage")
    assert len(calls) == len(reply.pieces) >= 2
    assert all(c.status == 200 and utf16_len(shown(c)) <= 4096 for c in calls)
    assert "".join(shown(c) for c in calls) == text


# -- inline mode and buttons -------------------------------------------------------------------


async def test_inline_query_answer_first_then_cited_paragraphs(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [call] = await exchange(fake, inline_update("who coordinates ICAT?"), "answerInlineQuery")
    results = call.params["results"]
    assert 2 <= len(results) <= 5
    assert all(r["type"] == "article" for r in results)
    assert all(r["input_message_content"]["parse_mode"] == "HTML" for r in results)
    assert "UNODC" in results[0]["title"]
    assert results[1]["title"].startswith(("Preambular paragraph", "Operative paragraph"))
    assert len({r["id"] for r in results}) == len(results)


async def test_inline_empty_query_offers_examples(
    app: TelegramApp, fake: FakeTelegramAPI, core: Core,
) -> None:
    [call] = await exchange(fake, inline_update(""), "answerInlineQuery")
    titles = [r["title"] for r in call.params["results"]]
    assert titles == core.examples()[:5]


async def test_full_paragraph_button_expands_the_citation(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [answer] = await exchange(fake, text_update("when is World Day?"))
    data = answer.buttons[0]["callback_data"]
    [full] = await exchange(fake, callback_update(data, message_id=answer.result["message_id"]))
    assert fake.calls_of("answerCallbackQuery")
    assert "<b>Operative paragraph 5</b>" in full.text
    assert "for the promotion and protection of their rights;" in shown(full)


async def test_related_button_shows_next_best_hits(
    app: TelegramApp, fake: FakeTelegramAPI, core: Core,
) -> None:
    [answer] = await exchange(fake, text_update("who coordinates ICAT?"))
    related = [b for b in answer.buttons if b["text"] == "Related"]
    assert related and len(related[0]["callback_data"].encode()) <= 64
    ids = render.parse_callback(related[0]["callback_data"])[1]
    assert ids == list(core.answer("who coordinates ICAT?").related)
    [hits] = await exchange(fake, callback_update(related[0]["callback_data"]))
    assert shown(hits).startswith("Related paragraphs:")
    for ident in ids:
        assert {"text": f"Full {ident}", "callback_data": f"f:{ident}"} in hits.buttons


async def test_example_button_answers_the_example(
    app: TelegramApp, fake: FakeTelegramAPI, core: Core,
) -> None:
    [start] = await exchange(fake, text_update("/start"))
    [call] = await exchange(fake, callback_update(start.buttons[0]["callback_data"]))
    assert shown(call).startswith(core.examples()[0])  # the question is echoed first
    assert "UNODC" in shown(call)


async def test_button_under_inline_message_edits_it(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [edit] = await exchange(fake, callback_update("f:OP5", inline_message_id="IM1"),
                            "editMessageText")
    assert edit.params["inline_message_id"] == "IM1"
    assert "to be observed annually" in shown(edit)


async def test_unknown_button_says_expired(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    [call] = await exchange(fake, callback_update("zz:1"))
    assert "expired" in shown(call)


# -- other updates -----------------------------------------------------------------------------


async def test_stickers_and_photos_get_a_hint_edits_are_ignored(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    [sticker] = await exchange(fake, sticker_update())
    [photo] = await exchange(fake, photo_update(caption="when is World Day?"))
    assert shown(sticker) == shown(photo) == NON_TEXT_HINT
    fake.push(edited_update("when is World Day?"))
    fake.push(sticker_update(chat_id=GROUP))
    # Updates are handled in order, so once the sentinel is answered the two above were seen.
    [sentinel] = await exchange(fake, text_update("/help"))
    assert "/ask - " in shown(sentinel)
    assert len(fake.calls_of("sendMessage")) == 3


async def test_same_update_id_twice_gets_one_answer(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    fake.push(text_update("when is World Day?", update_id=777))
    fake.push(text_update("when is World Day?", update_id=777))
    fake.push(text_update("/help", update_id=778))  # sentinel: handled after both copies
    first, sentinel = await fake.wait_for("sendMessage", 2)
    assert "30 July" in shown(first) and "/ask - " in shown(sentinel)
    await fake.settle()
    assert len(fake.calls_of("sendMessage")) == 2


# -- failures ----------------------------------------------------------------------------------


@pytest.fixture
def timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.2+ warns (PTBDeprecationWarning) inside RetryAfter() itself unless this opt-in
    is set; resbot never reads retry_after, so opting in changes nothing else."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_429_waits_retry_after_and_retries_once(
    app: TelegramApp, fake: FakeTelegramAPI,
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    first, second = await exchange(fake, text_update("when is World Day?"), count=2)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 1.0
    assert first.text == second.text


@pytest.mark.usefixtures("timedelta_retry_after")
async def test_429_twice_gives_up_after_one_retry(
    app: TelegramApp, fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=5)
    await exchange(fake, text_update("when is World Day?"), count=2)
    await fake.settle(quiet=1.5, timeout=8)
    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 429]
    assert any("flood control" in r.getMessage() for r in caplog.records)


async def test_forbidden_is_logged_once_without_retry(
    app: TelegramApp, fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels.telegram")
    fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user", times=10)
    await exchange(fake, text_update("when is World Day?"))
    await exchange(fake, text_update("who coordinates ICAT?"))
    await fake.settle()
    assert [c.status for c in fake.calls_of("sendMessage")] == [403, 403]  # no retries
    warnings = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(warnings) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_error_handler_logs_and_never_sends_a_traceback(
    app: TelegramApp, fake: FakeTelegramAPI, caplog: pytest.LogCaptureFixture,
) -> None:
    update = Update.de_json(text_update("boom") | {"update_id": 5}, app.bot)
    await app.process_error(update, RuntimeError("secret internal detail"))
    [call] = await fake.wait_for("sendMessage")
    assert call.text == ERROR_NOTICE
    assert "Traceback" not in call.text and "secret" not in call.text
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info is not None


# -- entry points ------------------------------------------------------------------------------


def test_paragraph_ref_parsing() -> None:
    assert paragraph_ref("para", ["5"]) == "OP5"
    assert paragraph_ref("op", ["OP5"]) == "OP5"
    assert paragraph_ref("pp", ["8(c)"]) == "PP8(c)"
    assert paragraph_ref("pp", ["8", "(C)"]) == "PP8(c)"
    assert paragraph_ref("para", ["pp3"]) == "PP3"
    assert paragraph_ref("footnote", ["11"]) == "FN11"
    assert paragraph_ref("para", []) is None
    assert paragraph_ref("para", ["5;", "drop"]) is None


def test_missing_token_is_a_config_error_naming_the_variable(
    config: Config, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        run(config, argparse.Namespace(base_url=None))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in err


async def _polling_process(fake: FakeTelegramAPI, token: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.channels.telegram", "--base-url", fake.base_url,
        cwd=str(PROJECT_ROOT), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def test_polling_process_answers_and_stops_on_sigterm_within_5s(
    fake: FakeTelegramAPI,
) -> None:
    proc = await _polling_process(fake, fake.token)
    try:
        [call] = await exchange(fake, text_update("when is World Day?"), timeout=60)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    assert "30 July" in shown(call)
    assert fake.calls_of("setMyCommands")
    await fake.wait_for("getUpdates", len(fake.calls_of("getUpdates")) + 1, timeout=10)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(5):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail("polling did not stop within 5 s of SIGTERM")
    assert time.monotonic() - started < 5
    assert proc.returncode == 0, err.decode(errors="replace")


async def test_rejected_token_exits_with_one_line(fake: FakeTelegramAPI) -> None:
    proc = await _polling_process(fake, "999:wrong")
    async with asyncio.timeout(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines[-1] == ("resbot: TELEGRAM_BOT_TOKEN was rejected by the Bot API; "
                         "check it with BotFather")
    assert "Traceback" not in err.decode()


# -- transcript for docs/telegram.md --------------------------------------------------------------


async def test_conversation_transcript(app: TelegramApp, fake: FakeTelegramAPI) -> None:
    """A short conversation; set RESBOT_TRANSCRIPT=path to write what the user saw."""
    [start] = await exchange(fake, text_update("/start"))
    [icat] = await exchange(fake, callback_update(start.buttons[0]["callback_data"]))
    related = [b["callback_data"] for b in icat.buttons if b["text"] == "Related"]
    await exchange(fake, callback_update(related[0]))
    [answer] = await exchange(fake, text_update("when is World Day?"))
    await exchange(fake, callback_update("f:OP5", message_id=answer.result["message_id"]))
    await exchange(fake, text_update("/footnote 1"))
    await exchange(fake, text_update("what is the population of Mexico?"))
    await exchange(fake, sticker_update())
    transcript = fake.transcript()
    assert "You: when is World Day?" in transcript
    assert "You: (taps [Full paragraph])" in transcript
    assert "[Full paragraph]  [Related]" in transcript
    target = os.environ.get("RESBOT_TRANSCRIPT")
    if target:
        Path(target).write_text(transcript, encoding="utf-8")
