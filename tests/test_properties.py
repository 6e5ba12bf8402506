"""Property tests: any Unicode text through the core, the CLI, every web route and the renderers.

Inputs mix arbitrary code points with the characters that break bots (zero-width and bidi
controls, NUL, ANSI escapes, CR, emoji sequences, markup, mentions) and sizes up to 100 kB.
Web routes run against the real app and the real core on uvicorn (tests/fakes/web_harness.py).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main as cli_main
from bot.context import Context
from bot.core import Core
from bot.model import Answer, Citation, Item
from bot.render import chat as chat_render
from bot.render import slack as slack_render
from bot.render import telegram as telegram_render
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, parse_html, text_update, utf16_len
from tests.fakes.web_harness import (
    MATTERMOST_TOKEN,
    ROCKETCHAT_TOKEN,
    TELEGRAM_SECRET,
    Stack,
    full_env,
    json_body,
    mention_event,
    running,
    slack_headers,
)

ROOT = Path(__file__).resolve().parent.parent
MAX_CHARS = 100_000
ROUTE_SETTINGS = settings(max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Every code point but lone surrogates (they cannot travel as UTF-8 on a wire or a command line).
UNICODE = st.characters(exclude_categories=["Cs"])
FORMAT_CHARS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
CONTROL_CHARS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x85),
                                  *range(0x86, 0xA0)]]
ANSI = ["\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b[?25l"]
SPECIAL = ["\u200b", "\u200d", "\u2060", "\u202e", "\u2066", "\ufeff", "\u00ad", "\x00", "\r", "\r\n", "\t",
           *ANSI, "🙂", "👩\u200d👩\u200d👧", "\U0001f1fa\U0001f1f3", "مرحبا بالعالم", "שלום", "<script>", "</code>",
           "<b>", "<<b>", "&", "&amp;", "&lt;", "<!channel>", "<!here>", "<@U1>", "<http://x|y>", "@all", "@here",
           "[x](javascript:alert(1))", "when is World Day?", "OP5", "PP8(c)", "ICAT", "30 July", " ", "\n"]
QUESTIONS = ["when is World Day?", "who coordinates ICAT?", "what does OP5 say?", "list the sponsors",
             "what is the Global Plan of Action?", "which resolution established the trust fund?"]


def _big(piece: str, size: int) -> str:
    """``piece`` repeated to exactly ``size`` characters."""
    piece = piece or "x"
    return (piece * (size // len(piece) + 1))[:size]


def nasty_text() -> st.SearchStrategy[str]:
    """Short mixes of arbitrary and troublesome text, and now and then up to 100 kB of it."""
    piece = st.one_of(st.text(UNICODE, max_size=40), st.sampled_from(SPECIAL))
    short = st.lists(piece, max_size=12).map("".join)
    big = st.builds(_big, st.sampled_from([*SPECIAL, "a", "word "]), st.integers(1_000, MAX_CHARS))
    return st.one_of(short, short, short, big)


def answer_key(answer: Answer) -> tuple[Any, ...]:
    """What a user sees of an answer (everything but the echoed question)."""
    return (answer.found, answer.kind, answer.text, tuple(c.id for c in answer.citations),
            answer.items, answer.related, answer.error)


def squash(text: str) -> str:
    """Text without any whitespace, for comparisons across line breaks and message cuts."""
    return "".join(text.split())


# -- the core ------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(text=nasty_text())
def test_core_answers_any_text(core: Core, text: str) -> None:
    answer = core.answer(text)
    assert isinstance(answer, Answer)
    assert answer.text.strip()
    assert answer.error in (None, "empty", "too_long")
    if answer.error:
        assert not answer.found


@settings(max_examples=50, deadline=None)
@given(text=nasty_text(), previous=st.sampled_from(QUESTIONS))
def test_core_answers_any_text_as_a_follow_up(core: Core, text: str, previous: str) -> None:
    answer = core.answer(text, context=Context(last=core.answer(previous)))
    assert answer.text.strip()


def test_zero_width_space_answers_exactly_like_the_clean_question(core: Core) -> None:
    clean = core.answer("when is World Day?")
    assert "30 July" in clean.text
    assert answer_key(core.answer("when is\u200b World Day?")) == answer_key(clean)


@settings(max_examples=150, deadline=None)
@given(question=st.sampled_from(QUESTIONS),
       inserts=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(FORMAT_CHARS + CONTROL_CHARS)),
                        min_size=1, max_size=6),
       escapes=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(ANSI)), max_size=1))
def test_invisible_and_control_characters_anywhere_do_not_change_the_answer(
        core: Core, question: str, inserts: list[tuple[int, str]], escapes: list[tuple[int, str]]) -> None:
    noisy = question
    for position, char in inserts + escapes:  # whole ANSI sequences last, so nothing lands inside one
        at = position % (len(noisy) + 1)
        noisy = noisy[:at] + char + noisy[at:]
    assert answer_key(core.answer(noisy)) == answer_key(core.answer(question))


# -- the command line ----------------------------------------------------------------------------

@settings(max_examples=6, deadline=None)
@given(text=nasty_text())
def test_cli_ask_any_text_gives_an_answer_or_a_clear_error(text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["ask", "--json", "--", text])
    data = json.loads(out.getvalue())
    assert data["answer"].strip()
    assert code == (2 if data.get("error") else 0)
    assert "Traceback" not in err.getvalue()


def _stdin_line() -> st.SearchStrategy[bytes]:
    """One stdin line: UTF-8 text (no newline) or arbitrary bytes that may not be UTF-8."""
    text = nasty_text().map(lambda s: s.replace("\n", " ").encode("utf-8"))
    raw = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" "))
    return st.one_of(text, text, raw)


def _expected_questions(lines: list[bytes]) -> tuple[int, bool]:
    """How many stdin lines the CLI should answer, and whether some line is not UTF-8."""
    answered, bad = 0, False
    for line in lines:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            bad = True
            continue
        answered += bool(text.rstrip("\r").strip())
    return answered, bad


@settings(max_examples=2, deadline=None)
@given(lines=st.lists(_stdin_line(), min_size=1, max_size=25))
def test_cli_stdin_answers_every_line_in_a_subprocess(lines: list[bytes]) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "--json"], input=b"\n".join(lines) + b"\n",
                          capture_output=True, cwd=ROOT, timeout=120, check=False)
    answered, bad = _expected_questions(lines)
    assert b"Traceback" not in done.stderr
    assert done.returncode == (2 if bad else 0), done.stderr
    outputs = [json.loads(line) for line in done.stdout.decode("utf-8").split("\n") if line]
    assert len(outputs) == answered
    assert all(o["answer"].strip() for o in outputs)


# -- renderers -------------------------------------------------------------------------------------

def check_telegram(pieces: tuple[str, ...]) -> str:
    """Every piece parses as Telegram HTML (allowed tags only, escaped text) and fits; the visible text."""
    shown = []
    for piece in pieces:
        visible, entities, _ = parse_html(piece)  # raises on unknown tags, bare < or &, unclosed tags
        assert 1 <= utf16_len(visible.strip()) <= telegram_render.MESSAGE_LIMIT
        assert entities <= telegram_render.ENTITY_LIMIT
        shown.append(visible)
    return "".join(shown)


_SLACK_LINK = re.compile(r"<https?://[^|<>\s]+\|[^<>]*>")
_SLACK_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def slack_texts(message: slack_render.SlackMessage) -> list[str]:
    """The fallback text and every mrkdwn text in the blocks."""
    texts = [message.text]
    for block in message.blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", []))
    return texts


def check_slack(message: slack_render.SlackMessage) -> str:
    """No raw ``<`` or bare ``&`` outside the renderer's own links; the text with entities undone."""
    for text in slack_texts(message):
        bare = _SLACK_ENTITY.sub("", _SLACK_LINK.sub("", text))
        assert "<" not in bare and "&" not in bare, text
        assert len(text) <= slack_render.SECTION_LIMIT
    assert len(message.blocks) <= slack_render.MAX_BLOCKS
    joined = "".join(slack_texts(message)[1:])
    return joined.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_chat(pieces: list[str]) -> None:
    """Mattermost / Rocket.Chat text: every ``<`` and ``@`` defused with a word joiner (link targets aside)."""
    for piece in pieces:
        text = re.sub(r"\]\(https?://[^)\s]*\)", "]", piece)  # the renderer's own http(s) link targets
        assert re.search(r"<(?!\u2060)", text) is None, piece
        assert re.search(r"@(?=[\w.\-])", text) is None, piece


# Answer fields come from the core, which has stripped control characters (tested above) but not markup.
CLEAN = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n")
field_text = st.one_of(st.text(CLEAN, max_size=300),
                       st.lists(st.sampled_from([s for s in SPECIAL if s.isprintable() or s == "\n"]),
                                max_size=8).map("".join))
citations = st.builds(Citation, id=st.sampled_from(["OP5", "PP8(c)", "FN11", "<b>", "&x"]), label=field_text,
                      text=field_text, quote=field_text, score=st.floats(0, 50))
answers = st.builds(
    Answer, question=field_text, found=st.booleans(), kind=st.sampled_from(["fact", "list", "error"]),
    text=field_text, citations=st.lists(citations, max_size=3).map(tuple),
    items=st.lists(st.builds(Item, text=field_text, cite=field_text, group=field_text), max_size=4).map(tuple),
    related=st.lists(field_text, max_size=3).map(tuple),
    links=st.dictionaries(field_text, st.one_of(field_text, field_text.map(lambda s: "https://undocs.org/" + s)),
                          max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(answer=answers)
def test_telegram_html_escapes_every_field_and_round_trips_the_text(answer: Answer) -> None:
    shown = squash(check_telegram(telegram_render.render_answer(answer, echo=True).pieces))
    assert squash(answer.question) in shown
    assert squash(answer.text) in shown
    for citation in answer.citations:
        assert squash(citation.label)[1:] in shown
    check_telegram(telegram_render.render_paragraph(answer).pieces)


@settings(max_examples=150, deadline=None)
@given(answer=answers)
def test_slack_text_has_no_raw_angle_bracket_from_user_or_resolution_text(answer: Answer) -> None:
    shown = squash(check_slack(slack_render.render_answer(answer)))
    assert squash(answer.text)[:1000] in shown
    check_slack(slack_render.render_usage(answer, answer.question, [answer.text]))


@settings(max_examples=100, deadline=None)
@given(answer=answers)
def test_chat_markdown_defuses_every_field(answer: Answer) -> None:
    check_chat(chat_render.render_mattermost(answer))
    check_chat(chat_render.render_rocketchat(answer))


@settings(max_examples=60, deadline=None)
@given(text=nasty_text())
def test_core_answers_to_any_text_render_safely_everywhere(core: Core, text: str) -> None:
    answer = core.answer(text)
    check_telegram(telegram_render.render_answer(answer, echo=True).pieces)
    check_slack(slack_render.render_answer(answer))
    check_chat(chat_render.render_mattermost(answer))


def test_every_paragraph_of_the_resolution_renders_escaped_and_whole(core: Core) -> None:
    for chunk in core.document.chunks:
        shown = core.show(chunk.id)
        assert squash(chunk.text) in squash(check_telegram(telegram_render.render_paragraph(shown).pieces))
        check_slack(slack_render.render_answer(shown))
        check_chat(chat_render.render_mattermost(shown))


# -- web routes ------------------------------------------------------------------------------------

_ids = itertools.count(1)


@pytest.fixture
async def stack(core: Core) -> AsyncIterator[Stack]:
    """The whole web app with the real core, on uvicorn, with the fake Slack Web API."""
    async with running(core=core) as st:
        yield st


def _reply_text(reply: httpx.Response, key: str = "text") -> str:
    """A 200 reply's text field, or "" for a clear 4xx error (too large)."""
    assert reply.status_code in (200, 413), (reply.status_code, reply.text[:300])
    if reply.status_code == 413:
        assert reply.json()["error"]
        return ""
    return str(reply.json()[key])


@ROUTE_SETTINGS
@given(text=nasty_text())
async def test_slack_command_route_any_text(stack: Stack, text: str) -> None:
    body = httpx.QueryParams({"team_id": "T1", "channel_id": f"C{next(_ids)}", "user_id": "U1",
                              "command": "/resbot", "text": text}).__str__().encode()
    reply = await stack.post("/slack/commands", content=body, headers=slack_headers(body))
    if _reply_text(reply):
        data = reply.json()
        check_slack(slack_render.SlackMessage(data["text"], data["blocks"]))
    else:
        assert len(body) > 65_536


@ROUTE_SETTINGS
@given(text=nasty_text())
async def test_slack_events_route_any_text(stack: Stack, text: str) -> None:
    n = next(_ids)
    body = json_body(mention_event(text, f"EvP{n}", channel=f"C{n}"))
    before = len(stack.slack.calls_of("chat.postMessage"))
    reply = await stack.post("/slack/events", content=body,
                             headers=slack_headers(body, content_type="application/json"))
    assert reply.status_code in (200, 413)
    if reply.status_code == 200:
        posted = (await stack.slack.wait_for("chat.postMessage", count=before + 1))[before].params
        assert posted["text"].strip()
        check_slack(slack_render.SlackMessage(posted["text"], posted["blocks"]))


@ROUTE_SETTINGS
@given(text=nasty_text())
async def test_mattermost_route_any_text(stack: Stack, text: str) -> None:
    reply = await stack.post("/mattermost", headers={"Authorization": f"Token {MATTERMOST_TOKEN}"},
                             data={"command": "/resbot", "channel_id": f"c{next(_ids)}", "text": text})
    if shown := _reply_text(reply):
        check_chat([shown])


@ROUTE_SETTINGS
@given(text=nasty_text())
async def test_rocketchat_route_any_text(stack: Stack, text: str) -> None:
    n = next(_ids)
    reply = await stack.post("/rocketchat", json={"token": ROCKETCHAT_TOKEN, "bot": False, "channel_id": f"c{n}",
                                                  "message_id": f"mP{n}", "user_name": "alice", "text": text})
    if shown := _reply_text(reply):
        check_chat([shown])


@pytest.fixture
async def telegram_stack(core: Core) -> AsyncIterator[tuple[Stack, FakeTelegramAPI]]:
    """The web app with its Telegram webhook route, talking to the fake Bot API."""
    async with FakeTelegramAPI() as fake:
        env = full_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET)
        async with running(core=core, env=env, telegram={"base_url": fake.base_url}) as st:
            yield st, fake


@ROUTE_SETTINGS
@given(text=nasty_text().filter(lambda s: s.strip()))
async def test_telegram_webhook_route_any_text(telegram_stack: tuple[Stack, FakeTelegramAPI], text: str) -> None:
    st_, fake = telegram_stack
    before = len(fake.calls_of("sendMessage"))
    reply = await st_.post("/telegram", content=json.dumps(text_update(text, update_id=100_000 + next(_ids))),
                           headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                                    "Content-Type": "application/json"})
    assert reply.status_code in (200, 413), reply.text[:300]
    if reply.status_code == 200:
        calls = await fake.wait_for("sendMessage", count=before + 1)
        await fake.settle(quiet=0.05)
        for call in fake.calls_of("sendMessage")[before:]:
            assert call.status == 200, call.result  # the fake answers 400 to HTML Telegram would refuse
        assert calls[before].text.strip()


ANY_ROUTE = ["/slack/commands", "/slack/events", "/mattermost", "/rocketchat", "/telegram", "/healthz", "/metrics",
             "/", "/nope", "/slack", "/telegram/x"]
CONTENT_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data", ""]


@ROUTE_SETTINGS
@given(path=st.sampled_from(ANY_ROUTE), method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
       body=st.one_of(st.binary(max_size=2_000), nasty_text().map(lambda s: s.encode("utf-8")[:70_000])),
       content_type=st.sampled_from(CONTENT_TYPES))
async def test_any_bytes_with_valid_credentials_to_any_route_never_5xx(
        telegram_stack: tuple[Stack, FakeTelegramAPI], path: str, method: str, body: bytes, content_type: str,
) -> None:
    st_, _fake = telegram_stack
    headers = {**slack_headers(body, content_type=content_type), "Authorization": f"Token {MATTERMOST_TOKEN}",
               "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    if not content_type:
        del headers["Content-Type"]
    reply = await st_.client.request(method, st_.server.url + path, content=body, headers=headers)
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    if reply.status_code >= 400:
        assert reply.json()["error"]
    assert st_.server.alive


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(UNICODE, max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
update_like = st.fixed_dictionaries(
    {"update_id": st.integers(-5, 2**40)},
    optional={"message": json_values | st.fixed_dictionaries({"message_id": json_values, "date": json_values,
                                                               "chat": json_values, "text": json_values}),
              "callback_query": json_values, "inline_query": json_values, "edited_message": json_values})
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited", ""])},
    optional={"event": json_values | st.fixed_dictionaries({"type": json_values, "user": json_values,
                                                             "channel": json_values, "text": json_values}),
              "event_id": json_values, "challenge": json_values, "authorizations": json_values})


@ROUTE_SETTINGS
@given(path_and_body=st.one_of(st.tuples(st.just("/telegram"), update_like),
                               st.tuples(st.just("/slack/events"), event_like),
                               st.tuples(st.just("/rocketchat"), st.dictionaries(st.text(max_size=10), json_values)
                                         .map(lambda d: {**d, "token": ROCKETCHAT_TOKEN})),
                               st.tuples(st.sampled_from(["/telegram", "/slack/events", "/rocketchat"]), json_values)))
async def test_any_json_with_valid_credentials_never_5xx(
        telegram_stack: tuple[Stack, FakeTelegramAPI], path_and_body: tuple[str, Any]) -> None:
    st_, _fake = telegram_stack
    path, data = path_and_body
    body = json.dumps(data).encode()
    headers = {**slack_headers(body, content_type="application/json"),
               "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    reply = await st_.client.post(st_.server.url + path, content=body, headers=headers)
    assert reply.status_code < 500, (path, data, reply.status_code, reply.text[:300])
    assert st_.server.alive
