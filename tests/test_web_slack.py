"""Slack slash commands and Events API through the real app on uvicorn (GUIDE section 4, Slack)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as hs

from bot.channels.security import SlackVerifier, slack_signature
from tests.fakes.slack_api import BOT_USER_ID
from tests.fakes.web_harness import (
    HELP,
    SIGNING_SECRET,
    ScriptedCore,
    Stack,
    full_env,
    json_body,
    mention_event,
    plain_answer,
    running,
    slack_headers,
)

# GUIDE section 6: Slack's published example (from slack_sdk's signature tests).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TS = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibI"
    b"GlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = 1_700_000_000.0


_event_ids = itertools.count(1)
SHARED = pytest.mark.asyncio(loop_scope="module")  # tests that reuse the module's app


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_stack() -> AsyncIterator[Stack]:
    """One app (frozen clock, scripted core) for the tests that need no special settings."""
    async with running(clock=lambda: NOW) as stack:
        yield stack


def frozen(at: float = NOW) -> float:
    """A clock that never moves."""
    return at


def command(text: str, **extra: str) -> bytes:
    """A slash command form body."""
    fields = {"token": "legacy", "team_id": "T1", "channel_id": "C1", "user_id": "U9",
              "command": "/resbot", "text": text, **extra}
    return urlencode(fields).encode()


def event(question: str, event_id: str | None = None, **fields: object) -> dict[str, object]:
    """An event_callback envelope around an app_mention (override with ``fields``)."""
    return mention_event(question, event_id or f"EvAuto{next(_event_ids)}", **{"user": "U9", **fields})


# -- signature checks ------------------------------------------------------------------------

def test_published_vector_verifies_with_frozen_clock() -> None:
    verifier = SlackVerifier(VECTOR_SECRET, clock=lambda: VECTOR_TS + 100)
    assert slack_signature(VECTOR_SECRET, str(VECTOR_TS), VECTOR_BODY) == VECTOR_SIGNATURE
    assert verifier.verify(str(VECTOR_TS), VECTOR_SIGNATURE, VECTOR_BODY)
    assert not SlackVerifier(VECTOR_SECRET, clock=lambda: VECTOR_TS + 301).verify(
        str(VECTOR_TS), VECTOR_SIGNATURE, VECTOR_BODY)
    raw = verifier.verify_raw(str(VECTOR_TS).encode(), VECTOR_SIGNATURE.encode(), VECTOR_BODY)
    assert raw and not verifier.verify_raw(str(VECTOR_TS).encode(), VECTOR_SIGNATURE.encode(), VECTOR_BODY + b" ")


async def test_published_vector_through_the_app() -> None:
    env = full_env(SLACK_SIGNING_SECRET=VECTOR_SECRET)
    async with running(env=env, clock=lambda: VECTOR_TS + 5) as st:
        headers = {"X-Slack-Request-Timestamp": str(VECTOR_TS),
                   "X-Slack-Signature": VECTOR_SIGNATURE,
                   "Content-Type": "application/x-www-form-urlencoded"}
        reply = await st.post("/slack/commands", content=VECTOR_BODY, headers=headers)
        assert reply.status_code == 200
        assert HELP in reply.json()["text"] or HELP in str(reply.json()["blocks"])


@SHARED
async def test_one_body_byte_changed_is_401_and_handler_not_run(st: Stack) -> None:
    body = command("what is OP5")
    headers = slack_headers(body, timestamp=int(NOW))
    tampered = body.replace(b"OP5", b"OP6")
    reply = await st.post("/slack/commands", content=tampered, headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"error": "invalid or missing Slack signature"}
    assert st.core.questions == []


@SHARED
@pytest.mark.parametrize(("offset", "status"), [(301, 401), (-301, 401), (-299, 200),
                                                (299, 200), (10_000_000, 401)])
async def test_timestamp_window(st: Stack, offset: int, status: int) -> None:
    body = command("what is OP5")
    reply = await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW) + offset))
    assert reply.status_code == status
    assert (st.core.questions == []) == (status == 401)


@SHARED
@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp", "both"])
async def test_missing_header_is_401(st: Stack, missing: str) -> None:
    body = command("hello")
    headers = slack_headers(body, timestamp=int(NOW))
    for name in ("X-Slack-Signature", "X-Slack-Request-Timestamp"):
        if missing in (name, "both"):
            del headers[name]
    reply = await st.post("/slack/commands", content=body, headers=headers)
    assert reply.status_code == 401
    assert st.core.questions == []


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
async def test_header_names_in_any_case(case: object) -> None:
    assert callable(case)
    async with running(clock=frozen) as st:
        body = command("hello")
        headers = {case(k): v for k, v in slack_headers(body, timestamp=int(NOW)).items()}
        reply = await st.post("/slack/commands", content=body, headers=headers)
        assert reply.status_code == 200


@SHARED
@pytest.mark.parametrize("timestamp", ["abc", "", "1.5", "-1", "+1700000000", "1e9",
                                       "\u0661\u0667\u0660\u0660"])
async def test_malformed_timestamp_is_401_not_500(st: Stack, timestamp: str) -> None:
    body = command("hello")
    headers = slack_headers(body, timestamp=int(NOW))
    headers["X-Slack-Request-Timestamp"] = timestamp
    reply = await st.post("/slack/commands", content=body,
                          headers={k: v.encode() for k, v in headers.items()})
    assert reply.status_code == 401


@SHARED
@pytest.mark.parametrize("signature", [b"v0=\xff", b"v0=", b"", b"v1=abc", b"\xff" * 67])
async def test_malformed_signature_is_401_not_500(st: Stack, signature: bytes) -> None:
    body = command("hello")
    headers: dict[str, bytes] = {k: v.encode() for k, v in
                                 slack_headers(body, timestamp=int(NOW)).items()}
    headers["X-Slack-Signature"] = signature
    reply = await st.post("/slack/commands", content=body, headers=headers)
    assert reply.status_code == 401


@SHARED
@pytest.mark.parametrize("path", ["/slack/commands", "/slack/events"])
async def test_signed_non_utf8_body_is_400(st: Stack, path: str) -> None:
    body = b"text=\xff\xfe&team_id=T1"
    reply = await st.post(path, content=body, headers=slack_headers(body, timestamp=int(NOW)))
    assert reply.status_code == 400
    assert st.core.questions == []


@SHARED
async def test_signed_bad_percent_encoding_is_400(st: Stack) -> None:
    body = b"text=%ff%fe&team_id=T1"
    reply = await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))
    assert reply.status_code == 400


@SHARED
async def test_malformed_json_unsigned_401_signed_400(st: Stack) -> None:
    body = b'{"type": "event_callback", '
    unsigned = await st.post("/slack/events", content=body,
                             headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    signed = await st.post("/slack/events", content=body, headers=slack_headers(
        body, timestamp=int(NOW), content_type="application/json"))
    assert signed.status_code == 400
    assert signed.json() == {"error": "malformed JSON"}


@SHARED
@pytest.mark.parametrize("body", [b"[]", b"123", b'"x"', b"[" * 5000 + b"]" * 5000])
async def test_signed_non_object_json_is_400(st: Stack, body: bytes) -> None:
    reply = await st.post("/slack/events", content=body, headers=slack_headers(
        body, timestamp=int(NOW), content_type="application/json"))
    assert reply.status_code == 400


@SHARED
async def test_ssl_check_bad_signature_401_signed_200_empty(st: Stack) -> None:
    body = b"ssl_check=1&token=legacy"
    bad = slack_headers(body, timestamp=int(NOW), secret="wrong")
    assert (await st.post("/slack/commands", content=body, headers=bad)).status_code == 401
    good = await st.post("/slack/commands", content=body,
                         headers=slack_headers(body, timestamp=int(NOW)))
    assert good.status_code == 200
    assert good.content == b""
    assert st.core.questions == []


@SHARED
async def test_url_verification_echoes_challenge_only_when_signed(st: Stack) -> None:
    body = json_body({"type": "url_verification", "challenge": "c-123", "token": "t"})
    unsigned = await st.post("/slack/events", content=body,
                             headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert b"c-123" not in unsigned.content
    signed = await st.post("/slack/events", content=body, headers=slack_headers(
        body, timestamp=int(NOW), content_type="application/json"))
    assert signed.status_code == 200
    assert signed.json() == {"challenge": "c-123"}


@SHARED
async def test_two_mb_body_is_413_even_when_signed(st: Stack) -> None:
    body = command("x" * 2_000_000)
    for headers in (slack_headers(body, timestamp=int(NOW)), {"X-Slack-Signature": "v0=00"}):
        reply = await st.post("/slack/commands", content=body, headers=headers)
        assert reply.status_code == 413
    assert st.core.questions == []


async def test_oversized_declared_body_is_refused_before_it_is_read() -> None:
    """The 413 comes back while the 2 MB body has not been sent: no HMAC can have run."""
    async with running(clock=frozen) as st:
        loop = asyncio.get_running_loop()
        sock = socket.create_connection(("127.0.0.1", st.server.port), timeout=5)
        sock.setblocking(False)
        try:
            head = (b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n"
                    b"X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=00\r\n\r\n")
            await loop.sock_sendall(sock, head)
            async with asyncio.timeout(5):
                first = await loop.sock_recv(sock, 4096)
        finally:
            sock.close()
        assert first.startswith(b"HTTP/1.1 413")


async def test_chunked_body_over_limit_is_413() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 4096

    async with running(clock=frozen) as st:
        reply = await st.post("/slack/commands", content=chunks(),
                              headers={"X-Slack-Signature": "v0=00"})
        assert reply.status_code == 413


# -- slash commands --------------------------------------------------------------------------

@SHARED
async def test_slash_command_answers_with_blocks_ephemeral_by_default(st: Stack) -> None:
    body = command("what is OP5")
    reply = await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))
    data = reply.json()
    assert reply.status_code == 200
    assert data["response_type"] == "ephemeral"
    assert data["text"] == "You asked: what is OP5"
    assert data["blocks"][0]["text"]["text"] == "You asked: what is OP5"
    assert any("OP5" in str(b) for b in data["blocks"][1:])


@SHARED
async def test_public_flag_and_config_make_answers_in_channel(st: Stack) -> None:
    body = command("--public what is OP5")
    data = (await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))).json()
    assert data["response_type"] == "in_channel"
    assert st.core.questions == ["what is OP5"]
    async with running(clock=frozen, slack_public=True) as public:
        body = command("what is OP5")
        data = (await public.post("/slack/commands", content=body,
                                  headers=slack_headers(body, timestamp=int(NOW)))).json()
        assert data["response_type"] == "in_channel"


@SHARED
@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
async def test_empty_slash_text_gets_usage_hint(st: Stack, text: str) -> None:
    body = command(text)
    data = (await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))).json()
    shown = data["text"] + str(data["blocks"])
    assert "Please ask a question" in shown
    assert HELP in shown
    assert "What does operative paragraph 5 ask?" in shown


@SHARED
async def test_answers_quoting_mentions_and_links_are_escaped(st: Stack) -> None:
    core = st.core
    nasty = "Hey <!channel> and <@U1> see <http://x|y> & <!here>"
    core.replies["q"] = plain_answer("q", nasty, quote="<!everyone> <@U2|bob> <mailto:a@b|c>")
    body = command("q")
    data = (await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))).json()
    everything = data["text"] + str(data["blocks"])
    for bad in ("<!channel>", "<@U1>", "<http://x|y>", "<!here>", "<!everyone>", "<@U2",
                "<mailto"):
        assert bad not in everything
    assert "&lt;!channel&gt;" in data["text"]
    assert "&lt;@U1&gt;" in data["blocks"][0]["text"]["text"]
    assert "&amp;" in data["text"]


@SHARED
async def test_fifty_kb_answer_goes_into_blocks_of_at_most_3000(st: Stack) -> None:
    core = st.core
    long_text = "\n\n".join(f"Paragraph {i} " + "word & <x> " * 45 for i in range(100))
    assert len(long_text) > 50_000
    core.replies["long"] = plain_answer("long", long_text)
    body = command("long")
    data = (await st.post("/slack/commands", content=body,
                          headers=slack_headers(body, timestamp=int(NOW)))).json()
    sections = [b["text"]["text"] for b in data["blocks"] if b["type"] == "section"]
    assert len(sections) > 10
    assert all(len(s) <= 3000 for s in sections)
    assert len(data["blocks"]) <= 50
    assert len(data["text"]) <= 3000


async def test_slow_answer_is_acknowledged_then_posted_to_response_url() -> None:
    core = ScriptedCore()
    core.delay = 0.5
    async with running(core=core, clock=frozen, slack_sync_seconds=0.05) as st:
        body = command("slow one", response_url=st.slack.response_url("r1"))
        started = time.monotonic()
        reply = await st.post("/slack/commands", content=body,
                              headers=slack_headers(body, timestamp=int(NOW)))
        assert time.monotonic() - started < 0.45
        assert reply.status_code == 200
        assert reply.json()["response_type"] == "ephemeral"
        (posted,) = await st.slack.wait_for("response:r1")
        assert posted.params["text"] == "You asked: slow one"
        assert posted.params["response_type"] == "ephemeral"
        assert posted.params["blocks"]


# -- Events API ------------------------------------------------------------------------------

async def post_event(st: Stack, payload: dict[str, object], retry: int | None = None) -> int:
    """Send a signed event; return the status."""
    body = json_body(payload)
    headers = slack_headers(body, timestamp=int(NOW), content_type="application/json")
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return (await st.post("/slack/events", content=body, headers=headers)).status_code


async def answered_sentinel(st: Stack) -> None:
    """Send one more event (in channel CS) and wait for its answer.

    Ignored and duplicate events are dropped before any task starts, and the core runs
    questions in order on one thread, so once the sentinel is answered anything wrongly
    accepted earlier would already show in the core's questions.
    """
    assert await post_event(st, event("sentinel", channel="CS")) == 200
    async with asyncio.timeout(5):
        while not any(c.params.get("channel") == "CS"
                      for c in st.slack.calls_of("chat.postMessage")):
            await asyncio.sleep(0.01)


@SHARED
async def test_app_mention_answered_with_chat_post_message(st: Stack) -> None:
    assert await post_event(st, event("what is OP5")) == 200
    (call,) = await st.slack.wait_for("chat.postMessage")
    assert call.params["channel"] == "C1"
    assert call.params["text"] == "You asked: what is OP5"
    assert call.params["blocks"]
    assert call.authorization == "Bearer xoxb-test-token"
    assert st.core.questions == ["what is OP5"]


@SHARED
async def test_mention_in_a_thread_is_answered_in_the_thread(st: Stack) -> None:
    await post_event(st, event("q", thread_ts="1.0"))
    (call,) = await st.slack.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == "1.0"


@SHARED
async def test_direct_message_answered_channel_message_ignored(st: Stack) -> None:
    await post_event(st, event("dm q", "Ev2", type="message", channel_type="im",
                               channel="D1", text="dm q"))
    await post_event(st, event("chan q", "Ev3", type="message", channel_type="channel",
                               text="chan q"))
    await answered_sentinel(st)
    channels = {c.params["channel"] for c in st.slack.calls_of("chat.postMessage")}
    assert channels == {"D1", "CS"}
    assert st.core.questions == ["dm q", "sentinel"]


@SHARED
async def test_same_event_id_retried_gives_one_answer(st: Stack) -> None:
    payload = event("what is OP5", "EvSame")
    assert await post_event(st, payload) == 200
    for retry in (1, 2, 3):
        assert await post_event(st, payload, retry=retry) == 200
    await answered_sentinel(st)
    assert len(st.slack.calls_of("chat.postMessage")) == 2
    assert st.core.questions == ["what is OP5", "sentinel"]


@SHARED
async def test_retry_after_failed_post_is_answered(st: Stack) -> None:
    st.slack.fail("chat.postMessage")
    payload = event("q", "EvFail")
    await post_event(st, payload)
    await st.slack.wait_for("chat.postMessage")
    await st.slack.settle()
    await post_event(st, payload, retry=1)
    calls = await st.slack.wait_for("chat.postMessage", count=2)
    assert len(calls) == 2


@pytest.mark.parametrize("fields", [
    {"bot_id": "B1"},
    {"subtype": "bot_message"},
    {"user": BOT_USER_ID},
    {"type": "message", "channel_type": "im", "user": BOT_USER_ID},
    {"type": "message", "channel_type": "im", "subtype": "message_changed"},
    {"bot_profile": {"id": "B1"}},
])
@SHARED
async def test_bot_own_messages_get_no_reply(st: Stack, fields: dict[str, object]) -> None:
    assert await post_event(st, event("q", **fields)) == 200
    await answered_sentinel(st)
    assert len(st.slack.calls_of("chat.postMessage")) == 1
    assert st.core.questions == ["sentinel"]


@SHARED
async def test_events_route_answers_mentions_with_escaping(st: Stack) -> None:
    core = st.core
    core.replies["q"] = plain_answer("q", "see <!channel> <@U1>")
    await post_event(st, event("q"))
    (call,) = await st.slack.wait_for("chat.postMessage")
    assert "<!channel>" not in str(call.params)
    assert "<@U1>" not in str(call.params)


@SHARED
async def test_other_event_types_acknowledged(st: Stack) -> None:
    assert await post_event(st, {"type": "app_rate_limited", "minute_rate_limited": 1}) == 200
    assert await post_event(st, {"type": "event_callback", "event": "x"}) == 200


async def test_slack_routes_disabled_without_secret() -> None:
    async with running(env={"MATTERMOST_TOKEN": "x"}) as st:
        body = command("q")
        for path in ("/slack/commands", "/slack/events"):
            reply = await st.post(path, content=body, headers=slack_headers(body))
            assert reply.status_code == 404


async def test_slack_signing_secret_uses_env_only() -> None:
    async with running(env=full_env(SLACK_SIGNING_SECRET="other"), clock=frozen) as st:
        body = command("q")
        reply = await st.post("/slack/commands", content=body,
                              headers=slack_headers(body, timestamp=int(NOW),
                                                    secret=SIGNING_SECRET))
        assert reply.status_code == 401


@settings(max_examples=300, deadline=None)
@given(hs.one_of(hs.none(), hs.text(max_size=30)), hs.one_of(hs.none(), hs.text(max_size=80)),
       hs.binary(max_size=200))
def test_verifier_never_raises(timestamp: str | None, signature: str | None, body: bytes) -> None:
    verifier = SlackVerifier(SIGNING_SECRET, clock=lambda: NOW)
    assert verifier.verify(timestamp, signature, body) is False


@settings(max_examples=300, deadline=None)
@given(hs.one_of(hs.none(), hs.binary(max_size=30), hs.just(str(int(NOW)).encode())),
       hs.one_of(hs.none(), hs.binary(max_size=80)), hs.binary(max_size=200))
def test_raw_header_verifier_never_raises(timestamp: bytes | None, signature: bytes | None, body: bytes) -> None:
    verifier = SlackVerifier(SIGNING_SECRET, clock=lambda: NOW)
    assert verifier.verify_raw(timestamp, signature, body) is False
