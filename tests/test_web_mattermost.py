"""Mattermost slash commands and outgoing webhooks through the real app (GUIDE section 4)."""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest

from bot.render.chat import JOINER
from tests.fakes.web_harness import (
    HELP,
    MATTERMOST_TOKEN,
    Stack,
    full_env,
    plain_answer,
    running,
)

SHARED = pytest.mark.asyncio(loop_scope="module")  # tests that reuse the module's app


AUTH = {"Authorization": f"Token {MATTERMOST_TOKEN}"}


_ids = itertools.count(1)


def slash(text: str, **extra: str) -> dict[str, str]:
    """Mattermost slash command fields."""
    return {"channel_id": "ch1", "team_id": "t1", "user_id": "u1", "user_name": "alice",
            "command": "/resbot", "text": text, "response_url": "http://127.0.0.1:9/x", **extra}


def outgoing(text: str, **extra: str) -> dict[str, str]:
    """Mattermost outgoing webhook fields."""
    return {"token": MATTERMOST_TOKEN, "channel_id": "ch1", "user_id": "u1", "user_name": "alice",
            "post_id": f"p{next(_ids)}", "trigger_word": "resbot", "text": text, **extra}


@SHARED
async def test_right_token_gives_exactly_200_json_with_response_type(st: Stack) -> None:
    reply = await st.post("/mattermost", data=slash("what is OP5"), headers=AUTH)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    data = reply.json()
    assert data["response_type"] == "ephemeral"
    assert data["text"].startswith("You asked: what is OP5")
    assert data["skip_slack_parsing"] is True


@SHARED
async def test_public_flag_posts_in_channel(st: Stack) -> None:
    reply = await st.post("/mattermost", data=slash("--public what is OP5"), headers=AUTH)
    assert reply.json()["response_type"] == "in_channel"


@SHARED
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Token wrong"}, {"Authorization": f"Bearer {MATTERMOST_TOKEN}"},
    {"Authorization": "Token"}, {"Authorization": f"Token {MATTERMOST_TOKEN}x"},
    {"Authorization": "Token \u00e9t\u00e9"},
])
async def test_wrong_or_missing_token_is_401(st: Stack, headers: dict[str, str]) -> None:
    encoded = {k: v.encode("utf-8") for k, v in headers.items()}
    reply = await st.post("/mattermost", data=slash("q"), headers=encoded)
    assert reply.status_code == 401
    assert st.core.questions == []


@SHARED
async def test_wrong_body_token_is_401(st: Stack) -> None:
    reply = await st.post("/mattermost", data=outgoing("resbot q", token="nope"))
    assert reply.status_code == 401


@SHARED
async def test_slash_command_by_get_answers_like_post(st: Stack) -> None:
    by_get = await st.get("/mattermost?" + urlencode(slash("what is OP5")), headers=AUTH)
    by_post = await st.post("/mattermost", data=slash("what is OP5"), headers=AUTH)
    assert by_get.status_code == 200
    assert by_get.json() == by_post.json()


@SHARED
async def test_get_with_token_in_query_answers(st: Stack) -> None:
    reply = await st.get("/mattermost?" + urlencode(slash("q", token=MATTERMOST_TOKEN)))
    assert reply.status_code == 200


@SHARED
@pytest.mark.parametrize("as_json", [False, True])
async def test_outgoing_webhook_as_form_and_as_json(st: Stack, as_json: bool) -> None:
    fields = outgoing("resbot what is OP5")
    reply = await (st.post("/mattermost", json=fields) if as_json
                   else st.post("/mattermost", data=fields))
    assert reply.status_code == 200
    data = reply.json()
    assert data["response_type"] == "comment"
    assert data["text"].startswith("You asked: what is OP5")
    assert st.core.questions == [" what is OP5"]


@SHARED
async def test_outgoing_webhook_redelivery_answered_once(st: Stack) -> None:
    first = await st.post("/mattermost", data=outgoing("resbot q", post_id="pSame"))
    second = await st.post("/mattermost", data=outgoing("resbot q", post_id="pSame"))
    assert first.json()["text"]
    assert second.status_code == 200
    assert second.json() == {}
    assert len(st.core.questions) == 1


async def test_own_user_ignored_when_configured() -> None:
    async with running(mattermost_usernames=["resbot"]) as st:
        reply = await st.post("/mattermost", data=outgoing("resbot q", user_name="resbot"))
        assert reply.status_code == 200
        assert reply.json() == {}
        assert st.core.questions == []


@SHARED
async def test_channel_mentions_in_an_answer_are_defused(st: Stack) -> None:
    core = st.core
    core.replies["q"] = plain_answer("q", "Ping <!channel> @all @here @channel <@U1> "
                                          "<http://x|y> [click](http://evil)")
    text = (await st.post("/mattermost", data=slash("q"), headers=AUTH)).json()["text"]
    for bad in ("<!channel>", "@all", "@here", "@channel", "<@U1>", "<http", "](http"):
        assert bad not in text
    assert f"@{JOINER}all" in text


@SHARED
async def test_twenty_thousand_character_answer_split_to_16383(st: Stack) -> None:
    core = st.core
    core.replies["long"] = plain_answer("long", ("lorem ipsum dolor " * 1200)[:20_000])
    data = (await st.post("/mattermost", data=slash("long"), headers=AUTH)).json()
    pieces = [data["text"]] + [extra["text"] for extra in data["extra_responses"]]
    assert len(pieces) == 2
    assert all(len(piece) <= 16_383 for piece in pieces)
    assert sum(len(p) for p in pieces) >= 20_000
    assert all(extra["response_type"] == "ephemeral" for extra in data["extra_responses"])


@SHARED
async def test_long_answer_to_outgoing_webhook_is_one_message_within_limit(st: Stack) -> None:
    core = st.core
    core.replies[" long"] = plain_answer("long", ("lorem ipsum dolor " * 1200)[:20_000])
    data = (await st.post("/mattermost", data=outgoing("resbot long"))).json()
    assert len(data["text"]) <= 16_383
    assert data["text"].endswith("(answer shortened)")


@SHARED
async def test_empty_text_gets_usage_hint(st: Stack) -> None:
    data = (await st.post("/mattermost", data=slash("  "), headers=AUTH)).json()
    assert "Please ask a question" in data["text"]
    assert HELP in data["text"]


@SHARED
@pytest.mark.parametrize(("body", "ctype"), [
    (b"{bad json", "application/json"), (b"[1, 2]", "application/json"),
    (b"text=\xff", "application/x-www-form-urlencoded"),
])
async def test_malformed_bodies_are_400(st: Stack, body: bytes, ctype: str) -> None:
    reply = await st.post("/mattermost", content=body,
                          headers={**AUTH, "Content-Type": ctype})
    assert reply.status_code == 400


async def test_disabled_without_token() -> None:
    env = full_env()
    del env["MATTERMOST_TOKEN"]
    async with running(env=env) as st:
        reply = await st.post("/mattermost", data=slash("q"), headers=AUTH)
        assert reply.status_code == 404


async def test_several_tokens_one_per_integration() -> None:
    env = full_env(MATTERMOST_TOKEN="slashtoken, hooktoken")
    async with running(env=env) as st:
        by_slash = await st.post("/mattermost", data=slash("q"),
                                 headers={"Authorization": "Token slashtoken"})
        by_hook = await st.post("/mattermost", data=outgoing("resbot q", token="hooktoken"))
        wrong = await st.post("/mattermost", data=outgoing("resbot q", token="slashtoken,"))
        assert (by_slash.status_code, by_hook.status_code, wrong.status_code) == (200, 200, 401)
