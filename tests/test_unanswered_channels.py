"""The unanswered-question log through every channel: each not-found question lands once, no raw user id.

CLI in process, Telegram through the real PTB Application polling the fake Bot API, Slack,
Mattermost, Rocket.Chat and the web page's /api/ask through the real web app on a loopback port;
all with the real core.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from bot.channels.telegram import ALLOWED_UPDATES, TelegramApp, build_application
from bot.cli import main
from bot.config import PROJECT_ROOT, Config, load_config
from bot.core import Core
from bot.unanswered import LogSettings, QuestionLog
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update, text_update, visible_text
from tests.fakes.web_harness import (
    MATTERMOST_TOKEN,
    ROCKETCHAT_TOKEN,
    Stack,
    full_env,
    json_body,
    mention_event,
    running,
    slack_headers,
)

SALT = "channel-test-salt"
FOUND = "when is World Day?"
OFF_TOPIC = {  # one question the resolution does not answer per channel, so each can be counted apart
    "slack command": "what is the population of Mexico?",
    "slack event": "who won the football world cup in 1998?",
    "mattermost": "how tall is Mount Everest?",
    "rocketchat": "what is the weather in Paris today?",
    "telegram": "what is the capital of Australia?",
    "cli": "how do I bake sourdough bread?",
    "web api": "what is the boiling point of water?",
}
RAW_IDS = {"slack command": "U0RAWCMD01", "slack event": "U0RAWEVT02", "mattermost": "mmrawuser03",
           "rocketchat": "rcrawuser04", "telegram": "918273645"}
TELEGRAM_USER = {"id": int(RAW_IDS["telegram"]), "is_bot": False, "first_name": "Asker"}


def entries(path: Path) -> list[dict[str, Any]]:
    """Every line of the log, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def user_hash(channel: str, user: str) -> str:
    """What the log should store for ``user`` of ``channel``."""
    return hmac.new(SALT.encode(), f"{channel}:{user}".encode(), hashlib.sha256).hexdigest()[:16]


def config_file(tmp_path: Path, **unanswered: Any) -> Path:
    """A config file in ``tmp_path``: the project's, content paths absolute, the log as given."""
    data = dict(load_config(environ={}).data)
    data["content"] = {key: str(PROJECT_ROOT / value) for key, value in data["content"].items()}
    data["retrieval"] = {**data["retrieval"], "cache_dir": str(PROJECT_ROOT / ".cache")}
    data["unanswered"] = {"enabled": True, **unanswered}
    path = tmp_path / "resbot.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# -- web channels --------------------------------------------------------------------------------


async def slack_command(st: Stack, question: str, user: str) -> str:
    """A signed slash command; the answer's text."""
    body = urlencode({"team_id": "T1", "channel_id": "C1", "user_id": user, "command": "/resbot",
                      "text": question}).encode()
    reply = await st.post("/slack/commands", content=body, headers=slack_headers(body))
    assert reply.status_code == 200, reply.text
    return str(reply.json()["text"])


async def slack_event(st: Stack, question: str, user: str, event_id: str) -> str:
    """A signed app_mention, delivered twice (a retry); the one posted answer."""
    body = json_body(mention_event(question, event_id, user=user, channel=f"C{event_id}"))
    for retry in ("", "1"):
        headers = slack_headers(body, content_type="application/json")
        if retry:
            headers["X-Slack-Retry-Num"] = retry
        assert (await st.post("/slack/events", content=body, headers=headers)).status_code == 200
    calls = await st.slack.wait_for("chat.postMessage")
    posted = [c for c in calls if c.params.get("channel") == f"C{event_id}"]
    assert len(posted) == 1
    return str(posted[0].params["text"])


async def mattermost(st: Stack, question: str, user: str) -> str:
    """A Mattermost slash command; the answer's text."""
    reply = await st.post("/mattermost", headers={"Authorization": f"Token {MATTERMOST_TOKEN}"},
                          data={"command": "/resbot", "channel_id": "c1", "user_id": user, "user_name": "bob",
                                "text": question})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["text"])


async def rocketchat(st: Stack, question: str, user: str, message_id: str) -> str:
    """A Rocket.Chat outgoing webhook; the answer's text ("" when skipped)."""
    reply = await st.post("/rocketchat", json={"token": ROCKETCHAT_TOKEN, "bot": False, "channel_id": "c1",
                                               "message_id": message_id, "user_id": user, "user_name": "carol",
                                               "text": question})
    assert reply.status_code == 200, reply.text
    return str(reply.json().get("text", ""))


async def web_api(st: Stack, question: str) -> str:
    """The web page's POST /api/ask; the answer's text."""
    reply = await st.post("/api/ask", json={"question": question})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["answer"])


async def ask_every_web_channel(st: Stack, question: dict[str, str]) -> dict[str, str]:
    """Each web channel's question once (and a Slack retry), plus a found question on each; the replies."""
    replies = {
        "slack command": await slack_command(st, question["slack command"], RAW_IDS["slack command"]),
        "slack event": await slack_event(st, question["slack event"], RAW_IDS["slack event"], "Ev1"),
        "mattermost": await mattermost(st, question["mattermost"], RAW_IDS["mattermost"]),
        "rocketchat": await rocketchat(st, question["rocketchat"], RAW_IDS["rocketchat"], "m1"),
        "web api": await web_api(st, question["web api"]),
    }
    assert "30 July" in await slack_command(st, FOUND, RAW_IDS["slack command"])
    assert "30 July" in await mattermost(st, FOUND, RAW_IDS["mattermost"])
    assert "30 July" in await rocketchat(st, FOUND, RAW_IDS["rocketchat"], "m2")
    return replies


async def test_web_channels_log_each_not_found_question_exactly_once(tmp_path: Path, core: Core) -> None:
    path = tmp_path / "unanswered.jsonl"
    async with running(core=core, env=full_env(RESBOT_LOG_SALT=SALT),
                       unanswered={"enabled": True, "path": str(path)}) as st:
        replies = await ask_every_web_channel(st, OFF_TOPIC)
        assert await rocketchat(st, OFF_TOPIC["rocketchat"], RAW_IDS["rocketchat"], "m1") == ""  # redelivery
    assert all("could not find" in text for text in replies.values())
    logged = entries(path)
    counts = Counter((e["channel"], e["question"]) for e in logged)
    assert counts == Counter({("slack", OFF_TOPIC["slack command"]): 1, ("slack", OFF_TOPIC["slack event"]): 1,
                              ("mattermost", OFF_TOPIC["mattermost"]): 1, ("rocketchat", OFF_TOPIC["rocketchat"]): 1,
                              ("web", OFF_TOPIC["web api"]): 1})
    by_question = {e["question"]: e for e in logged}
    assert by_question[OFF_TOPIC["slack command"]]["user"] == user_hash("slack", RAW_IDS["slack command"])
    assert by_question[OFF_TOPIC["slack event"]]["user"] == user_hash("slack", RAW_IDS["slack event"])
    assert by_question[OFF_TOPIC["mattermost"]]["user"] == user_hash("mattermost", RAW_IDS["mattermost"])
    assert by_question[OFF_TOPIC["rocketchat"]]["user"] == user_hash("rocketchat", RAW_IDS["rocketchat"])
    assert by_question[OFF_TOPIC["web api"]]["user"] is None  # the page has no user id
    assert {e["event"] for e in logged} == {"not_found"} and all(e["shape"] for e in logged)
    raw = path.read_text(encoding="utf-8")
    assert not [user for user in RAW_IDS.values() if user in raw]


@pytest.mark.parametrize("where", ["full disk", "unwritable"])
async def test_web_channels_answer_as_usual_when_the_log_cannot_be_written(
        tmp_path: Path, core: Core, where: str, caplog: pytest.LogCaptureFixture) -> None:
    if where == "full disk":
        path = Path("/dev/full")
    else:
        (tmp_path / "file").write_text("not a folder", encoding="utf-8")
        path = tmp_path / "file" / "unanswered.jsonl"
    with caplog.at_level(logging.WARNING, logger="resbot.unanswered"):
        async with running(core=core, env=full_env(RESBOT_LOG_SALT=SALT),
                           unanswered={"enabled": True, "path": str(path)}) as st:
            replies = await ask_every_web_channel(st, OFF_TOPIC)
            assert (await st.get("/healthz")).status_code == 200
    assert all("could not find" in text for text in replies.values())
    assert "cannot write the unanswered-question log" in caplog.text


async def test_web_channels_log_nothing_when_the_log_is_off(tmp_path: Path, core: Core) -> None:
    async with running(core=core, env=full_env(RESBOT_LOG_SALT=SALT),
                       unanswered={"enabled": False, "path": str(tmp_path / "unanswered.jsonl")}) as st:
        await ask_every_web_channel(st, OFF_TOPIC)
    assert list(tmp_path.iterdir()) == []


# -- Telegram ------------------------------------------------------------------------------------


async def polling_app(fake: FakeTelegramAPI, config: Config, core: Core, log: QuestionLog | None) -> TelegramApp:
    """The real Application polling the fake Bot API, started."""
    app = build_application(config, core, token=fake.token, base_url=fake.base_url, log=log)
    assert app.updater is not None
    async with asyncio.timeout(15):
        await app.initialize()
        await app.updater.start_polling(timeout=1, allowed_updates=list(ALLOWED_UPDATES))
        await app.start()
    return app


async def stop(app: TelegramApp) -> None:
    """Stop a polling Application."""
    assert app.updater is not None
    async with asyncio.timeout(15):
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def telegram(fake: FakeTelegramAPI, update: dict[str, Any], method: str = "sendMessage") -> Any:
    """Deliver ``update``; the one new call of ``method`` it caused."""
    before = len(fake.calls_of(method))
    fake.push(update)
    return (await fake.wait_for(method, before + 1, timeout=10))[before]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


async def test_telegram_logs_not_found_once_and_records_not_helpful_presses(
        tmp_path: Path, fake: FakeTelegramAPI, config: Config, core: Core) -> None:
    path = tmp_path / "unanswered.jsonl"
    app = await polling_app(fake, config, core, QuestionLog(LogSettings(path), SALT))
    try:
        missed = await telegram(fake, text_update(OFF_TOPIC["telegram"], user=TELEGRAM_USER))
        assert "could not find" in visible_text(missed.text, "HTML")
        assert not [b for b in missed.buttons if b["text"] == "Not helpful"]
        answered = await telegram(fake, text_update(FOUND, user=TELEGRAM_USER))
        [button] = [b for b in answered.buttons if b["text"] == "Not helpful"]
        assert button["callback_data"].startswith("u:") and len(button["callback_data"].encode()) <= 64
        pressed = await telegram(fake, callback_update(button["callback_data"]), "answerCallbackQuery")
        assert pressed.params["text"].startswith("Thank you")
        again = await telegram(fake, callback_update(button["callback_data"]), "answerCallbackQuery")
        assert again.params["text"].startswith("Already noted")
        stale = await telegram(fake, callback_update("u:no-such-token"), "answerCallbackQuery")
        assert "expired" in stale.params["text"]
    finally:
        await stop(app)
    logged = entries(path)
    assert [(e["event"], e["channel"], e["question"]) for e in logged] == [
        ("not_found", "telegram", OFF_TOPIC["telegram"]), ("unhelpful", "telegram", FOUND)]
    assert logged[1]["shape"] == "when"
    assert logged[0]["user"] == user_hash("telegram", RAW_IDS["telegram"])
    assert logged[1]["user"] == user_hash("telegram", "4242")  # the fake's default presser
    assert RAW_IDS["telegram"] not in path.read_text(encoding="utf-8")


async def test_telegram_answers_as_usual_on_a_full_disk(
        fake: FakeTelegramAPI, config: Config, core: Core) -> None:
    app = await polling_app(fake, config, core, QuestionLog(LogSettings(Path("/dev/full")), SALT))
    try:
        missed = await telegram(fake, text_update(OFF_TOPIC["telegram"], user=TELEGRAM_USER))
        assert "could not find" in visible_text(missed.text, "HTML")
        answered = await telegram(fake, text_update(FOUND, user=TELEGRAM_USER))
        [button] = [b for b in answered.buttons if b["text"] == "Not helpful"]
        pressed = await telegram(fake, callback_update(button["callback_data"]), "answerCallbackQuery")
        assert pressed.status == 200
    finally:
        await stop(app)


async def test_telegram_offers_no_button_when_the_log_is_off(
        fake: FakeTelegramAPI, config: Config, core: Core) -> None:
    off = await polling_app(fake, config, core, None)
    try:
        answered = await telegram(fake, text_update(FOUND))
        assert "30 July" in visible_text(answered.text, "HTML")
        assert not [b for b in answered.buttons if b["text"] == "Not helpful"]
    finally:
        await stop(off)


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_ask_and_chat_log_each_not_found_question_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "logs" / "unanswered.jsonl"
    config = str(config_file(tmp_path, path="logs/unanswered.jsonl"))
    assert main(["--config", config, "ask", OFF_TOPIC["cli"]]) == 0
    assert main(["--config", config, "ask", FOUND]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{FOUND}\nwhat is the speed of light?\n"))
    assert main(["--config", config, "chat"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("what colour is the sky?\n"))
    assert main(["--config", config, "ask"]) == 0
    assert "could not find" in capsys.readouterr().out
    logged = entries(path)  # the relative path lies next to the config file
    assert [(e["channel"], e["question"], e["user"]) for e in logged] == [
        ("cli", OFF_TOPIC["cli"], None), ("cli", "what is the speed of light?", None),
        ("cli", "what colour is the sky?", None)]


@pytest.mark.parametrize("where", ["full disk", "unwritable"])
def test_cli_answers_as_usual_when_the_log_cannot_be_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    if where == "full disk":
        config = config_file(tmp_path, path="/dev/full")
    else:
        (tmp_path / "file").write_text("not a folder", encoding="utf-8")
        config = config_file(tmp_path, path="file/unanswered.jsonl")
    assert main(["--config", str(config), "ask", OFF_TOPIC["cli"]]) == 0
    captured = capsys.readouterr()
    assert "could not find" in captured.out and "Traceback" not in captured.err
