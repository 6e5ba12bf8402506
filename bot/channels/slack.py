"""Slack slash commands and the Events API: verify first, answer through the core, render mrkdwn."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from dataclasses import dataclass
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

import httpx
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bot.channels.security import SlackVerifier
from bot.channels.webcommon import (
    Answerer,
    AsgiEndpoint,
    ClientError,
    RenderedAnswers,
    TaskSet,
    decode_utf8,
    header_values,
    parse_form,
    parse_json_object,
    read_body,
    receive_body,
    text_field,
)
from bot.model import Answer
from bot.render.slack import SlackMessage, render_answer, render_usage
from bot.state import Dedupe

log = logging.getLogger("resbot.web.slack")

PUBLIC_FLAG = "--public"
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
ACK_TEXT = "Looking that up…"
# The slash command fields we read; the rest of Slack's form (names, trigger_id ...) is not decoded.
COMMAND_FIELDS = frozenset({"ssl_check", "text", "team_id", "channel_id", "user_id", "response_url"})
_COMMAND_HEADERS = frozenset({b"content-length", b"x-slack-request-timestamp", b"x-slack-signature"})
RETRIES = 2  # extra attempts for a post that timed out, failed to connect or got a 5xx or 429
BACKOFF_SECONDS = 0.25  # first wait before a retry; doubles each time
MAX_WAIT_SECONDS = 5.0  # longest wait honoured from a Retry-After header


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """What the Slack routes need from config and the environment."""

    max_body: int
    public_default: bool
    sync_seconds: float
    timeout: float = 10.0  # seconds for one response_url post


def message_payload(message: SlackMessage) -> dict[str, Any]:
    """The ``text`` and ``blocks`` fields of a Slack reply."""
    return {"text": message.text, "blocks": message.blocks}


def retry_handlers(retries: int = RETRIES) -> list[RetryHandler]:
    """slack_sdk retries for chat.postMessage: connection errors and timeouts, 500/503, 429 (Retry-After)."""
    intervals = BackoffRetryIntervalCalculator(backoff_factor=BACKOFF_SECONDS)
    errors: list[type[Exception]] = [URLError, ConnectionResetError, RemoteDisconnected, TimeoutError]
    return [ConnectionErrorRetryHandler(retries, intervals, error_types=errors),
            ServerErrorRetryHandler(retries, intervals), RateLimitErrorRetryHandler(retries)]


def retry_wait(attempt: int, reply: httpx.Response | None) -> float:
    """Seconds to wait before retry number ``attempt + 1``: Retry-After when given (capped), else backoff."""
    raw = str(reply.headers.get("retry-after", "")) if reply is not None else ""
    if raw.strip().isdigit():
        return min(float(raw), MAX_WAIT_SECONDS)
    return BACKOFF_SECONDS * 2.0 ** attempt


def wants_public(text: str) -> tuple[str, bool]:
    """The question without a ``--public`` flag, and whether the flag was given."""
    if PUBLIC_FLAG not in text:  # a substring test first: most questions have no flag at all
        return text, False
    words = text.split()
    if PUBLIC_FLAG not in words:
        return text, False
    return " ".join(w for w in words if w != PUBLIC_FLAG), True


def strip_mentions(text: str) -> str:
    """An app_mention's text without the ``<@U…>`` mentions of the bot."""
    return _MENTION.sub(" ", text).strip()


class SlackRoutes:
    """The two Slack endpoints, sharing one verifier, answerer and background task set."""

    def __init__(self, settings: SlackSettings, verifier: SlackVerifier, answerer: Answerer,
                 tasks: TaskSet, seen: Dedupe, client: Any | None) -> None:
        self._settings = settings
        self._verifier = verifier
        self._answerer = answerer
        self._tasks = tasks
        self._seen = seen
        self._http: httpx.AsyncClient | None = None
        self._client = client
        self._rendered = RenderedAnswers()
        self.commands = AsgiEndpoint(self._handle_command)  # POST /slack/commands, mounted as plain ASGI

    def _http_client(self) -> httpx.AsyncClient:
        """The HTTP client for response_url posts, created on first use."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self._settings.timeout),
                                           follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        """Close the response_url client."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _verified_body(self, request: Request) -> bytes:
        """The raw body once its size and signature check out (413, then 401)."""
        body = await read_body(request, self._settings.max_body)
        if not self._verifier.verify_headers(request.headers, body):
            raise ClientError(401, "invalid or missing Slack signature")
        return body

    async def _handle_command(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /slack/commands as plain ASGI: this is the busiest route, so it skips Request objects."""
        headers = header_values(scope, _COMMAND_HEADERS)
        body = await receive_body(receive, self._settings.max_body, headers.get(b"content-length"))
        if not self._verifier.verify_raw(headers.get(b"x-slack-request-timestamp"),
                                         headers.get(b"x-slack-signature"), body):
            raise ClientError(401, "invalid or missing Slack signature")
        response = await self._command_response(parse_form(decode_utf8(body), COMMAND_FIELDS))
        await response(scope, receive, send)

    async def _command_response(self, form: dict[str, str]) -> Response:
        """A slash command's reply: the answer inline, or an acknowledgement and a response_url post."""
        if form.get("ssl_check") == "1":
            return Response(status_code=200)
        text, public = wants_public(form.get("text", ""))
        public = public or self._settings.public_default
        response_type = "in_channel" if public else "ephemeral"
        user = form.get("user_id", "")
        key = f"slack:{form.get('team_id', '')}:{form.get('channel_id', '')}:{user}"
        if self._answerer.is_quick(text):
            return self._command_reply(await self._answerer.ask("slack", key, text, user), response_type)
        context = await self._answerer.context(key, text)
        ready = await self._answerer.ready("slack", key, text, context, user)
        if ready is not None:
            return self._command_reply(ready, response_type)
        task = asyncio.ensure_future(self._answerer.compute("slack", key, text, context, user))
        done, _ = await asyncio.wait({task}, timeout=self._settings.sync_seconds)
        response_url = form.get("response_url", "")
        if not done and response_url:
            self._tasks.spawn(self._follow_up(task, response_url, response_type))
            return JSONResponse({"response_type": "ephemeral", "text": ACK_TEXT})
        return self._command_reply(await task, response_type)

    def _command_reply(self, answer: Answer, response_type: str) -> Response:
        """The slash command's JSON reply, rendered once per memoised answer and response type."""
        return self._rendered.response(answer, response_type, self._command_fields)

    def _command_fields(self, answer: Answer, response_type: str) -> dict[str, Any]:
        """The JSON fields of a slash command reply."""
        return {"response_type": response_type, **self._render(answer)}

    def _render(self, answer: Answer) -> dict[str, Any]:
        """Slack fields for an answer, or the usage hint when the question was empty."""
        if answer.error == "empty":
            return message_payload(render_usage(answer, self._answerer.help_text(),
                                                self._answerer.examples()))
        return message_payload(render_answer(answer))

    async def _follow_up(self, task: asyncio.Future[Answer], url: str,
                         response_type: str) -> None:
        """Post a late answer to the slash command's response_url."""
        try:
            payload = {"response_type": response_type, "replace_original": False,
                       **self._render(await task)}
            await self._post_response(url, payload)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("posting to response_url failed: %s", exc)

    async def _post_response(self, url: str, payload: dict[str, Any]) -> None:
        """POST to a response_url; retry timeouts, transport errors, 5xx and 429 with backoff (bounded)."""
        problem = ""
        for attempt in range(RETRIES + 1):
            reply: httpx.Response | None = None
            try:
                reply = await self._http_client().post(url, json=payload)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} {exc}".strip()
            else:
                if reply.status_code < 300:
                    return
                problem = f"status {reply.status_code}"
                if reply.status_code != 429 and reply.status_code < 500:
                    break  # the request itself is wrong (or the URL expired): retrying cannot help
            if attempt < RETRIES:
                await asyncio.sleep(retry_wait(attempt, reply))
        log.warning("response_url post failed (%s); giving up", problem)

    async def events(self, request: Request) -> Response:
        """POST /slack/events: the Events API; acknowledge at once, answer in the background."""
        payload = parse_json_object(await self._verified_body(request))
        kind = payload.get("type")
        if kind == "url_verification":
            return JSONResponse({"challenge": text_field(payload, "challenge")})
        if kind == "event_callback":
            await self._accept_event(payload)
        return Response(status_code=200)

    async def _accept_event(self, payload: dict[str, Any]) -> None:
        """Queue an answer for an event we should answer and have not seen yet."""
        event = payload.get("event")
        if not isinstance(event, dict) or not self._should_answer(event, payload):
            return
        event_id = text_field(payload, "event_id") or text_field(event, "client_msg_id")
        if event_id and not await self._seen.first_time(event_id):
            log.info("duplicate Slack event %s ignored", event_id)
            return
        self._tasks.spawn(self._answer_event(event, payload, event_id))

    @staticmethod
    def _should_answer(event: dict[str, Any], payload: dict[str, Any]) -> bool:
        """True for app mentions and direct messages from people (never from bots or us)."""
        if event.get("bot_id") or event.get("subtype") or event.get("bot_profile"):
            return False
        user = text_field(event, "user")
        if not user or user in _bot_user_ids(payload):
            return False
        if not text_field(event, "channel"):
            return False
        kind = event.get("type")
        return kind == "app_mention" or (kind == "message" and event.get("channel_type") == "im")

    async def _answer_event(self, event: dict[str, Any], payload: dict[str, Any],
                            event_id: str) -> None:
        """Answer one event with chat.postMessage; forget the event id if posting failed."""
        channel = text_field(event, "channel")
        key = f"slack:{text_field(payload, 'team_id')}:{channel}"
        answer = await self._answerer.ask("slack", key, strip_mentions(text_field(event, "text")),
                                          text_field(event, "user"))
        fields = self._render(answer)
        thread = text_field(event, "thread_ts") or None
        try:
            await self._post(channel=channel, thread_ts=thread, **fields)
        except Exception as exc:  # any client or transport failure: log it, let a retry answer
            log.warning("chat.postMessage to %s failed: %s", channel, exc)
            if event_id:
                await self._seen.forget(event_id)

    async def _post(self, **kwargs: Any) -> None:
        """chat.postMessage through an async or a sync slack_sdk client."""
        if self._client is None:
            raise RuntimeError("no Slack client configured")
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        method = self._client.chat_postMessage
        if inspect.iscoroutinefunction(method):
            await method(**kwargs)
        else:
            await asyncio.to_thread(method, **kwargs)


def _bot_user_ids(payload: dict[str, Any]) -> set[str]:
    """User ids of the bot itself, from the event's ``authorizations``."""
    found: set[str] = set()
    for auth in payload.get("authorizations") or []:
        if isinstance(auth, dict) and auth.get("is_bot") and isinstance(auth.get("user_id"), str):
            found.add(auth["user_id"])
    return found
