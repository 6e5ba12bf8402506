"""Checks every web frontend must pass (GUIDE section 4, "Every frontend"), with the real core."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as hs
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from bot.config import load_config
from bot.core import Core, get_core
from tests.fakes.web_harness import (
    MATTERMOST_TOKEN,
    ROCKETCHAT_TOKEN,
    ScriptedCore,
    Stack,
    free_socket,
    json_body,
    make_config,
    mention_event,
    plain_answer,
    raw_request,
    running,
    sample,
    slack_headers,
)

ROOT = Path(__file__).resolve().parent.parent
_ids = itertools.count(1)


@cache
def real_core() -> Core:
    """The project's answer core, built once for this module."""
    return get_core(load_config(environ={}))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def via_slack_command(st: Stack, question: str) -> str:
    """Ask through /slack/commands; the raw JSON text."""
    n = next(_ids)
    body = httpx.QueryParams({"team_id": "T1", "channel_id": f"C{n}", "user_id": "U1",
                              "command": "/resbot", "text": question}).__str__().encode()
    reply = await st.post("/slack/commands", content=body, headers=slack_headers(body))
    assert reply.status_code == 200, reply.text
    return reply.text


async def via_slack_event(st: Stack, question: str) -> str:
    """Ask through /slack/events as an app_mention; the posted message as JSON text."""
    n = next(_ids)
    body = json_body(mention_event(question, f"Ev{n}", channel=f"C{n}"))
    before = len(st.slack.calls_of("chat.postMessage"))
    reply = await st.post("/slack/events", content=body,
                          headers=slack_headers(body, content_type="application/json"))
    assert reply.status_code == 200
    calls = await st.slack.wait_for("chat.postMessage", count=before + 1)
    params = calls[before].params
    return json.dumps({"text": params["text"], "blocks": params["blocks"]}, ensure_ascii=False)


async def via_mattermost(st: Stack, question: str) -> str:
    """Ask through /mattermost as a slash command; the raw JSON text."""
    n = next(_ids)
    reply = await st.post("/mattermost", headers={"Authorization": f"Token {MATTERMOST_TOKEN}"},
                          data={"command": "/resbot", "channel_id": f"c{n}", "text": question})
    assert reply.status_code == 200, reply.text
    return reply.text


async def via_rocketchat(st: Stack, question: str) -> str:
    """Ask through /rocketchat as an outgoing webhook; the raw JSON text."""
    n = next(_ids)
    reply = await st.post("/rocketchat", json={
        "token": ROCKETCHAT_TOKEN, "bot": False, "channel_id": f"c{n}", "message_id": f"m{n}",
        "user_name": "alice", "text": question})
    assert reply.status_code == 200, reply.text
    return reply.text


Ask = Callable[[Stack, str], Awaitable[str]]
FRONTENDS: dict[str, Ask] = {"slack_command": via_slack_command, "slack_event": via_slack_event,
                             "mattermost": via_mattermost, "rocketchat": via_rocketchat}


def shown(raw: str) -> str:
    """What a user would read: JSON decoded, Slack entities undone, word joiners removed."""
    return _unescape(json.loads(raw).__repr__()).replace("\\u2060", "").replace("\u2060", "")


SHARED = pytest.mark.asyncio(loop_scope="module")  # tests that reuse the module's `shared` app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared() -> AsyncIterator[Stack]:
    """One app with the real core for the stateless checks (unique channels and ids per call)."""
    async with running(core=real_core(), max_body_bytes=400_000) as st:
        yield st


@pytest.fixture(params=sorted(FRONTENDS))
def ask(request: pytest.FixtureRequest) -> Ask:
    """Each web frontend in turn."""
    return FRONTENDS[request.param]


@SHARED
@pytest.mark.parametrize("question", ["", "   ", "\t \n"])
async def test_empty_or_whitespace_asks_for_a_question(
        shared: Stack, ask: Ask, question: str) -> None:
    assert "Please ask a question" in shown(await ask(shared, question))


@SHARED
async def test_hundred_kb_question_is_too_long_without_traceback(shared: Stack, ask: Ask) -> None:
    text = shown(await ask(shared, "why " * 25_000))  # `shared` allows 400 kB bodies
    assert "too long" in text
    assert "Traceback" not in text


async def test_hundred_kb_question_over_default_body_limit_is_short_413() -> None:
    async with running(core=real_core()) as st:
        body = ("text=" + "why+" * 25_000).encode()
        reply = await st.post("/slack/commands", content=body, headers=slack_headers(body))
        assert reply.status_code == 413
        assert reply.json() == {"error": "body too large"}


@SHARED
@pytest.mark.parametrize("dirty", [
    "what does OP5 say\x00", "what does\x1b[31m OP5 say\x1b[0m", "what does OP5 say\r",
    "what does \u200bOP5 say", "what does OP5\u202e say", "\u200fwhat does \u2066OP5\u2069 say",
])
async def test_control_zero_width_and_rtl_characters_give_the_clean_answer(
        shared: Stack, ask: Ask, dirty: str) -> None:
    clean = shown(await ask(shared, "what does OP5 say"))
    assert "OP5" in clean
    assert shown(await ask(shared, dirty)) == clean


@SHARED
@pytest.mark.parametrize("question", ["ما هو الاتجار بالبشر؟", "🙂🙂🙂", "人身売買とは"])
async def test_arabic_or_emoji_only_gets_an_answer_or_no_match(
        shared: Stack, ask: Ask, question: str) -> None:
    text = shown(await ask(shared, question))
    assert any(hint in text for hint in ("could not find", "Please ask", "resolution"))


async def test_script_tag_never_echoed_raw(ask: Ask) -> None:
    core = ScriptedCore()  # echoes the question back, the worst case for escaping
    async with running(core=core) as st:
        raw = await ask(st, "<script>alert(1)</script> what is OP5")
        assert "<script>" not in raw
        assert "<script>" not in json.loads(raw).__repr__()


@SHARED
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/slack/commands"), ("GET", "/slack/events"), ("PUT", "/mattermost"),
    ("GET", "/rocketchat"), ("DELETE", "/rocketchat"), ("POST", "/healthz"), ("POST", "/metrics"),
])
async def test_wrong_method_is_405(shared: Stack, method: str, path: str) -> None:
    reply = await shared.client.request(method, shared.server.url + path)
    assert reply.status_code == 405
    assert reply.json() == {"error": "method not allowed"}
    assert reply.headers["allow"]


@SHARED
@pytest.mark.parametrize("path", ["/", "/nope", "/slack", "/slack/commands/x", "/..%2f", "/%ff"])
async def test_unknown_path_is_404(shared: Stack, path: str) -> None:
    reply = await shared.get(path)
    assert reply.status_code == 404
    assert reply.json() == {"error": "not found"}


async def test_healthz_200_without_platform_calls() -> None:
    async with running() as st:
        reply = await st.get("/healthz")
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok", "store": "memory"}
        assert st.slack.calls == []
        assert st.core.questions == []
    async with running(env={}) as st:  # no secrets at all: still healthy
        assert (await st.get("/healthz")).status_code == 200


@pytest.mark.parametrize("http", ["httptools", "h11"])
async def test_64kb_header_is_431_or_400_and_server_lives_on(http: str) -> None:
    async with running(http=http) as st:
        for size in (65_536, 1_000_000):
            try:
                reply = await st.get("/healthz", headers={"X-Big": "a" * size})
                assert reply.status_code in (400, 431)
            except httpx.TransportError:  # h11 may reset the connection instead of answering
                assert http == "h11"
        assert st.server.alive
        assert (await st.get("/healthz")).status_code == 200


async def test_300_concurrent_requests_no_500() -> None:
    async with running(core=real_core()) as st:
        mattermost = {"Authorization": f"Token {MATTERMOST_TOKEN}",
                      "Content-Type": "application/x-www-form-urlencoded"}

        async def one(i: int) -> int:
            if i % 3 == 0:
                body = f"team_id=T1&channel_id=C{i}&text=what+is+OP{i % 9 + 1}".encode()
                return (await raw_request(st.server.port, "POST", "/slack/commands", body,
                                          slack_headers(body))).status
            if i % 3 == 1:
                body = f"text=who+is+ICAT+{i}&channel_id=c{i}".encode()
                return (await raw_request(st.server.port, "POST", "/mattermost", body,
                                          mattermost)).status
            return (await raw_request(st.server.port, "GET", "/healthz")).status

        statuses = await asyncio.gather(*(one(i) for i in range(300)))
        assert set(statuses) == {200}
        assert st.server.alive


async def test_concurrency_cap_answers_503_with_retry_after_never_500() -> None:
    core = ScriptedCore()
    core.delay = 0.02
    async with running(core=core, max_concurrency=5) as st:
        headers = {"Authorization": f"Token {MATTERMOST_TOKEN}",
                   "Content-Type": "application/x-www-form-urlencoded"}
        replies = await asyncio.gather(*(
            raw_request(st.server.port, "POST", "/mattermost", f"text=q{i}".encode(), headers)
            for i in range(300)))
        statuses = {r.status for r in replies}
        assert statuses <= {200, 503}
        assert 503 in statuses and 200 in statuses
        busy = next(r for r in replies if r.status == 503)
        assert busy.headers["retry-after"] == "1"
        assert json.loads(busy.body) == {"error": "busy, retry shortly"}
        assert (await st.get("/healthz")).status_code == 200


async def test_metrics_count_requests_latency_shapes_and_unanswered() -> None:
    core = ScriptedCore()
    core.replies["off topic"] = plain_answer("off topic", "I could not find that.", found=False)
    async with running(core=core) as st:
        await via_mattermost(st, "what does OP5 say")
        await via_mattermost(st, "off topic")
        await st.get("/nope")
        reply = await st.get("/metrics")
        assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = reply.text
        assert sample(text, "resbot_http_requests_total", route="/mattermost", status="200") == 2
        assert sample(text, "resbot_http_requests_total", route="other", status="404") == 1
        assert sample(text, "resbot_answer_latency_seconds_count") == 2
        assert sample(text, "resbot_answer_latency_seconds_bucket", le="+Inf") == 2
        assert sample(text, "resbot_answers_total", platform="mattermost", kind="fact", found="true") == 1
        assert sample(text, "resbot_answers_total", platform="mattermost", kind="fact", found="false") == 1
        assert sample(text, "resbot_unanswered_questions_total") == 1


async def test_metrics_speak_openmetrics_when_the_scraper_asks() -> None:
    async with running(core=ScriptedCore()) as st:
        await via_mattermost(st, "what does OP5 say")
        reply = await st.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert reply.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
        families = {f.name: f for f in openmetrics_families(reply.text)}
        assert reply.text.endswith("# EOF\n")
        assert families["resbot_answers"].type == "counter"
        assert families["resbot_answer_latency_seconds"].type == "histogram"


def test_procfile() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    assert lines == ["web: resbot serve --port $PORT", "worker: resbot telegram"]


def test_resbot_serve_honours_port_and_stops_on_sigterm() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "TELEGRAM_", "MATTERMOST_", "ROCKETCHAT_", "WEBHOOK"))}
    env.update({"PORT": str(port), "HOST": "127.0.0.1", "MATTERMOST_TOKEN": MATTERMOST_TOKEN})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0].decode()
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/mattermost", timeout=2,
                                   headers={"Authorization": f"Token {MATTERMOST_TOKEN}"},
                                   data={"text": "what does OP5 say"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert reply.status_code == 200
        assert "OP5" in reply.json()["text"]
        assert httpx.get(f"http://127.0.0.1:{port}/telegram", timeout=2).status_code == 404
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=10)[0].decode()
        assert time.monotonic() - stopping < 5
        # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see the signal
        assert proc.returncode in (0, -signal.SIGTERM), output
        assert "Application shutdown complete" in output
        assert "POST /mattermost HTTP/1.1" not in output  # no access log by default (web.access_log)
        assert "Slack routes disabled: SLACK_SIGNING_SECRET is not set" in output
        assert "Traceback" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


@pytest.mark.parametrize(("arg", "env", "expected"), [
    (None, {}, 8000), (None, {"PORT": "5001"}, 5001), (6001, {"PORT": "5001"}, 6001),
])
def test_port_precedence(arg: int | None, env: dict[str, str], expected: int) -> None:
    import argparse

    from bot.channels.web import _port
    from tests.fakes.web_harness import make_config

    args = argparse.Namespace(host=None, port=arg)
    assert _port(make_config(env, port=8000), args) == expected


@pytest.mark.parametrize(("arg", "env", "expected"), [
    (None, {}, "127.0.0.1"), (None, {"PORT": "5000"}, "0.0.0.0"),
    (None, {"PORT": "5000", "HOST": "127.0.0.2"}, "127.0.0.2"),
    ("127.0.0.3", {"PORT": "5000", "HOST": "127.0.0.2"}, "127.0.0.3"),
])
def test_host_precedence(arg: str | None, env: dict[str, str], expected: str) -> None:
    import argparse

    from bot.channels.web import _host
    from tests.fakes.web_harness import make_config

    assert _host(make_config(env, host="127.0.0.1"), argparse.Namespace(host=arg)) == expected


@pytest.mark.parametrize("bad", ["abc", "0", "70000", "80.5"])
def test_bad_port_is_a_config_error(bad: str) -> None:
    import argparse

    from bot.channels.web import _port
    from bot.config import ConfigError
    from tests.fakes.web_harness import make_config

    with pytest.raises(ConfigError, match="port"):
        _port(make_config({"PORT": bad}), argparse.Namespace(host=None, port=None))


@settings(max_examples=300, deadline=None)
@given(hs.binary(max_size=400))
def test_body_parsers_raise_only_client_errors(body: bytes) -> None:
    from bot.channels.webcommon import ClientError, decode_utf8, parse_form, parse_json_object

    for parse in (parse_json_object, lambda b: parse_form(decode_utf8(b))):
        try:
            parse(body)
        except ClientError as exc:
            assert exc.status == 400


def test_each_disabled_route_logs_one_clear_line(caplog: pytest.LogCaptureFixture) -> None:
    from bot.channels.web import create_app
    from tests.fakes.web_harness import make_config

    with caplog.at_level("WARNING", logger="resbot.web"):
        create_app(make_config({}), ScriptedCore())
    lines = [r.getMessage() for r in caplog.records if r.name == "resbot.web"]
    assert lines == [
        "Slack routes disabled: SLACK_SIGNING_SECRET is not set",
        "Mattermost route disabled: MATTERMOST_TOKEN is not set",
        "Rocket.Chat route disabled: ROCKETCHAT_TOKEN is not set",
        "Telegram webhook disabled: TELEGRAM_BOT_TOKEN is not set",
        "Web page disabled: no document was given to the app",  # `resbot serve` always gives one
    ]


def test_docs_cover_every_route_setting_and_variable() -> None:
    from bot.channels.web import create_app
    from tests.fakes.web_harness import full_env, make_config

    docs = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    app = create_app(make_config(full_env()), ScriptedCore())
    for route in app.routes:
        assert f"`{getattr(route, 'path', '')}`" in docs
    for key in load_config(environ={}).section("web"):
        assert f"`{key}`" in docs
    for variable in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "MATTERMOST_TOKEN",
                     "ROCKETCHAT_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
                     "WEBHOOK_URL", "PORT", "HOST"):
        assert f"`{variable}`" in docs
    for scope in ("commands", "app_mentions:read", "chat:write", "im:history"):
        assert f"`{scope}`" in docs


def _random_value(rng: random.Random, depth: int = 0) -> object:
    """A JSON value of a random type (bounded depth)."""
    kinds = ["str", "int", "bool", "null", "float"] + (["list", "dict"] if depth < 2 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice("ab <@!>&\u202e\x00é😀") for _ in range(rng.randint(0, 12)))
    if kind == "int":
        return rng.randint(-(2**70), 2**70)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "float":
        return rng.random() * 1e6
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "dict":
        return {rng.choice(FUZZ_KEYS): _random_value(rng, depth + 1) for _ in range(3)}
    return None


FUZZ_KEYS = ["token", "text", "bot", "isEdited", "user_name", "user_id", "channel_id",
             "message_id", "post_id", "trigger_word", "command", "type", "event", "event_id",
             "challenge", "authorizations", "update_id", "message", "edited_message", "chat",
             "subtype", "bot_id", "channel_type", "thread_ts"]


async def test_fuzzed_payloads_never_get_a_5xx() -> None:
    rng = random.Random(20261127)
    async with running() as st:
        for i in range(150):
            payload = {key: _random_value(rng) for key in rng.sample(FUZZ_KEYS, 8)}
            body = json.dumps(payload).encode()
            slack = slack_headers(body, content_type="application/json")
            chat = {"Authorization": f"Token {MATTERMOST_TOKEN}",
                    "Content-Type": "application/json"}
            for path, headers in (("/slack/events", slack), ("/mattermost", chat),
                                  ("/rocketchat", {**chat, "Authorization":
                                                   f"Token {ROCKETCHAT_TOKEN}"})):
                reply = await st.post(path, content=body, headers=headers)
                assert reply.status_code < 500, (i, path, payload, reply.text)
        assert (await st.get("/healthz")).status_code == 200


@pytest.mark.parametrize(("value", "expected"), [(None, False), (False, False), (True, True)])
def test_the_access_log_is_off_unless_config_turns_it_on(value: bool | None, expected: bool) -> None:
    from bot.channels.web import _access_log, server_config

    config = make_config() if value is None else make_config(access_log=value)
    assert _access_log(config) is expected
    assert server_config(lambda: None, "127.0.0.1", 1, _access_log(config)).access_log is expected  # type: ignore[arg-type]


def test_a_malformed_access_log_setting_is_a_config_error() -> None:
    from bot.channels.web import _access_log
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match=r"web\.access_log must be true or false, got 'yes'"):
        _access_log(make_config(access_log="yes"))
