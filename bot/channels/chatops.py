"""Mattermost and Rocket.Chat: Slack-compatible slash commands and outgoing webhooks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels.security import bearer_token, split_tokens, token_in
from bot.channels.webcommon import (
    Answerer,
    ClientError,
    form_or_json,
    parse_form,
    read_body,
    strip_trigger,
    text_field,
)
from bot.model import Answer
from bot.render.chat import (
    MATTERMOST_LIMIT,
    ROCKETCHAT_LIMIT,
    render_chat,
    render_usage,
)
from bot.render.split import Measure, utf16_len
from bot.state import Dedupe

log = logging.getLogger("resbot.web.chatops")

PUBLIC_FLAG = "--public"
SHORTENED = "\n\n… (answer shortened)"


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """One platform's token, limits and own identity."""

    platform: str
    tokens: tuple[str, ...]
    max_body: int
    limit: int
    measure: Measure
    own_users: frozenset[str] = frozenset()


def mattermost_settings(tokens: str, max_body: int, own: frozenset[str]) -> ChatSettings:
    """Settings for Mattermost (comma-separated tokens): 16,383 characters a post."""
    return ChatSettings("mattermost", split_tokens(tokens), max_body, MATTERMOST_LIMIT, len, own)


def rocketchat_settings(tokens: str, max_body: int, own: frozenset[str]) -> ChatSettings:
    """Settings for Rocket.Chat (comma-separated tokens): 5,000 UTF-16 units a message."""
    return ChatSettings("rocketchat", split_tokens(tokens), max_body, ROCKETCHAT_LIMIT,
                        utf16_len, own)


def _flag_public(text: str) -> tuple[str, bool]:
    """The text without ``--public`` and whether it was there."""
    words = text.split()
    if PUBLIC_FLAG not in words:
        return text, False
    return " ".join(w for w in words if w != PUBLIC_FLAG), True


class ChatRoutes:
    """Shared request handling for the two Slack-compatible chat servers."""

    def __init__(self, settings: ChatSettings, answerer: Answerer, seen: Dedupe) -> None:
        self._s = settings
        self._answerer = answerer
        self._seen = seen

    async def _payload(self, request: Request) -> dict[str, Any]:
        """The request's fields (query for GET, form or JSON for POST), token checked (401)."""
        if request.method == "GET":
            data: dict[str, Any] = parse_form(request.url.query)
        else:
            data = form_or_json(request, await read_body(request, self._s.max_body))
        given = bearer_token(request.headers.get("authorization")) or text_field(data, "token")
        if not token_in(self._s.tokens, given):
            raise ClientError(401, "invalid or missing token")
        return data

    def _pieces(self, answer: Answer) -> list[str]:
        """The rendered answer (or usage hint) split to the platform's limit."""
        if answer.error == "empty":
            return render_usage(answer, self._answerer.help_text(), self._answerer.examples(),
                                self._s.limit, self._s.measure)
        return render_chat(answer, self._s.limit, self._s.measure)

    def _is_own(self, data: dict[str, Any]) -> bool:
        """True for messages from a bot or from this integration's own user."""
        bot = data.get("bot")
        if bot not in (None, False, "", "false", {}):
            return True
        names = {text_field(data, "user_name"), text_field(data, "user_id")} - {""}
        return bool(names & self._s.own_users)

    async def _first_time(self, data: dict[str, Any], field: str) -> bool:
        """False when this message id was already answered (a redelivery)."""
        message_id = text_field(data, field)
        return not message_id or await self._seen.first_time(f"{self._s.platform}:{message_id}")

    def _key(self, data: dict[str, Any]) -> str:
        """The follow-up context key: one per channel."""
        return f"{self._s.platform}:{text_field(data, 'channel_id')}"

    @staticmethod
    def _user(data: dict[str, Any]) -> str:
        """The asking user's id (for the unanswered-question log, which stores only a hash of it)."""
        return text_field(data, "user_id") or text_field(data, "user_name")

    def _shorten(self, pieces: list[str]) -> str:
        """One message for webhooks that cannot post several: the first piece, marked as cut."""
        if len(pieces) == 1:
            return pieces[0]
        head = render_chat_cut(pieces[0], self._s.limit - self._s.measure(SHORTENED),
                               self._s.measure)
        return head + SHORTENED


def render_chat_cut(text: str, limit: int, measure: Measure) -> str:
    """``text`` cut at a word boundary to at most ``limit``."""
    if measure(text) <= limit:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text.rfind(" ", 0, lo)
    return text[: cut if cut > lo // 2 else lo].rstrip()


class MattermostRoutes(ChatRoutes):
    """GET|POST /mattermost: slash commands (ephemeral or in_channel) and outgoing webhooks."""

    async def handle(self, request: Request) -> Response:
        """Answer a Mattermost slash command or outgoing webhook with exactly 200 JSON."""
        data = await self._payload(request)
        outgoing = "command" not in data and ("trigger_word" in data or "post_id" in data)
        if outgoing and (self._is_own(data) or not await self._first_time(data, "post_id")):
            return JSONResponse({})
        text = text_field(data, "text")
        if outgoing:
            text = strip_trigger(text, text_field(data, "trigger_word"))
        text, public = _flag_public(text)
        pieces = self._pieces(await self._answerer.ask("mattermost", self._key(data), text, self._user(data)))
        if outgoing:
            return JSONResponse({"text": self._shorten(pieces), "response_type": "comment",
                                 "skip_slack_parsing": True})
        reply: dict[str, Any] = {
            "response_type": "in_channel" if public else "ephemeral",
            "text": pieces[0],
            "skip_slack_parsing": True,
        }
        if len(pieces) > 1:
            reply["extra_responses"] = [
                {"response_type": reply["response_type"], "text": piece,
                 "skip_slack_parsing": True} for piece in pieces[1:]
            ]
        return JSONResponse(reply)


class RocketChatRoutes(ChatRoutes):
    """POST /rocketchat: outgoing webhooks and slash-style posts; never answers 410."""

    async def handle(self, request: Request) -> Response:
        """Answer a Rocket.Chat outgoing webhook with ``{"text": ...}``; 200 ``{}`` to skip."""
        data = await self._payload(request)
        if self._is_own(data) or _truthy(data.get("isEdited")):
            return JSONResponse({})
        if not await self._first_time(data, "message_id"):
            return JSONResponse({})
        text = strip_trigger(text_field(data, "text"), text_field(data, "trigger_word"))
        text, _ = _flag_public(text)
        pieces = self._pieces(await self._answerer.ask("rocketchat", self._key(data), text, self._user(data)))
        reply: dict[str, Any] = {"text": pieces[0]}
        if len(pieces) > 1:
            reply["attachments"] = [{"text": piece} for piece in pieces[1:]]
        return JSONResponse(reply)


def _truthy(value: Any) -> bool:
    """JSON or form truthiness: true, "true", "1"."""
    return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})

