"""Rocket.Chat outgoing webhooks through the real app (GUIDE section 4, Rocket.Chat)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bot.render.split import utf16_len
from tests.fakes.web_harness import (
    ROCKETCHAT_TOKEN,
    Stack,
    full_env,
    plain_answer,
    running,
)

SHARED = pytest.mark.asyncio(loop_scope="module")  # tests that reuse the module's app


_ids = itertools.count(1)


def hook(text: str, **extra: Any) -> dict[str, Any]:
    """A Rocket.Chat outgoing webhook payload."""
    payload: dict[str, Any] = {
        "token": ROCKETCHAT_TOKEN, "bot": False, "channel_id": "GENERAL", "channel_name": "general",
        "message_id": f"m{next(_ids)}", "timestamp": "2026-11-27T20:00:00.000Z", "user_id": "u1",
        "user_name": "alice", "text": text, "trigger_word": "!ask", "isEdited": False,
    }
    payload.update(extra)
    return payload


@SHARED
async def test_right_token_gives_200_text(st: Stack) -> None:
    reply = await st.post("/rocketchat", json=hook("!ask what is OP5"))
    assert reply.status_code == 200
    assert reply.json()["text"].startswith("You asked: what is OP5")
    assert st.core.questions == [" what is OP5"]


@SHARED
async def test_token_in_authorization_header_and_form_body(st: Stack) -> None:
    fields = hook("!ask q")
    del fields["token"]
    by_header = await st.post("/rocketchat", json=fields,
                              headers={"Authorization": f"Token {ROCKETCHAT_TOKEN}"})
    assert by_header.status_code == 200
    form = {k: str(v) for k, v in hook("!ask q", message_id="m2").items()}
    assert (await st.post("/rocketchat", data=form)).status_code == 200


@SHARED
@pytest.mark.parametrize("token", ["wrong", "", None, ROCKETCHAT_TOKEN.upper(), 12345])
async def test_wrong_token_is_401_never_410(st: Stack, token: Any) -> None:
    payload = hook("!ask q")
    if token is None:
        del payload["token"]
    else:
        payload["token"] = token
    reply = await st.post("/rocketchat", json=payload)
    assert reply.status_code == 401
    assert st.core.questions == []


@pytest.mark.parametrize("extra", [{"bot": True}, {"bot": {"i": "xyz"}}, {"user_name": "resbot"},
                                   {"user_id": "botuser"}])
async def test_bot_or_own_user_gets_200_with_no_text(extra: dict[str, Any]) -> None:
    async with running(rocketchat_usernames=["resbot", "botuser"]) as st:
        reply = await st.post("/rocketchat", json=hook("!ask q", **extra))
        assert reply.status_code == 200
        assert "text" not in reply.json()
        assert st.core.questions == []


@SHARED
async def test_edited_message_gets_no_second_answer(st: Stack) -> None:
    first = await st.post("/rocketchat", json=hook("!ask q"))
    # a fresh id, so only isEdited (not the message_id dedupe) can stop a second answer
    edited = await st.post("/rocketchat", json=hook("!ask q edited", isEdited=True))
    assert first.json()["text"]
    assert edited.status_code == 200
    assert "text" not in edited.json()
    assert len(st.core.questions) == 1


@SHARED
async def test_redelivered_message_id_answered_once(st: Stack) -> None:
    await st.post("/rocketchat", json=hook("!ask q", message_id="mSame"))
    again = await st.post("/rocketchat", json=hook("!ask q", message_id="mSame"))
    assert again.json() == {}
    assert len(st.core.questions) == 1


@SHARED
async def test_eight_thousand_character_answer_in_pieces_of_5000(st: Stack) -> None:
    core = st.core
    text = ("word\U0001f600 " * 1400)[:8000]
    assert len(text) == 8000
    core.replies[" long"] = plain_answer("long", text)
    data = (await st.post("/rocketchat", json=hook("!ask long"))).json()
    pieces = [data["text"]] + [a["text"] for a in data.get("attachments", [])]
    assert len(pieces) >= 2
    assert all(utf16_len(piece) <= 5_000 for piece in pieces)


@SHARED
async def test_mentions_in_answer_defused(st: Stack) -> None:
    core = st.core
    core.replies[" q"] = plain_answer("q", "hey @all @here <!channel> @alice")
    text = (await st.post("/rocketchat", json=hook("!ask q"))).json()["text"]
    for bad in ("@all", "@here", "<!channel>", "@alice"):
        assert bad not in text


async def test_disabled_without_token_is_404_not_410() -> None:
    env = full_env()
    del env["ROCKETCHAT_TOKEN"]
    async with running(env=env) as st:
        reply = await st.post("/rocketchat", json=hook("!ask q"))
        assert reply.status_code == 404


@SHARED
async def test_get_is_405(st: Stack) -> None:
    reply = await st.get("/rocketchat")
    assert reply.status_code == 405
    assert "POST" in reply.headers["allow"]
